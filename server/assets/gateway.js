// WhatsApp Gateway pages: small progressive helpers. Every page works without this script.
(function () {
	'use strict';

	// <button data-copy="#selector">: copies the element's text.
	document.addEventListener('click', function (event) {
		var button = event.target.closest('[data-copy]');
		if (!button) return;
		var source = document.querySelector(button.getAttribute('data-copy'));
		if (!source || !navigator.clipboard) return;
		navigator.clipboard.writeText(source.textContent.trim()).then(function () {
			var label = button.textContent;
			button.textContent = 'Copied';
			setTimeout(function () {
				button.textContent = label;
			}, 1500);
		});
	});

	// <form data-confirm="Are you sure?">: asks before submitting.
	document.addEventListener('submit', function (event) {
		var message = event.target.getAttribute('data-confirm');
		if (message && !window.confirm(message)) event.preventDefault();
	});

	// <select data-autosubmit>: submits its form on change.
	document.addEventListener('change', function (event) {
		if (event.target.matches('[data-autosubmit]') && event.target.form) event.target.form.submit();
	});
})();

// ---- Instances (part B): the QR code on the connection tab ----
// <div data-connection-poll="/instances/ID/connection?account=N" data-qr-at="(the shown code's time)"> with
// <img data-qr-image>: every 3 seconds asks the gateway for the state; reloads the page once it says
// connected, else loads the QR code again whenever the provider has issued a new one.
(function () {
	'use strict';
	var box = document.querySelector('[data-connection-poll]');
	if (!box) return;
	var image = box.querySelector('[data-qr-image]');
	var lastQr = box.getAttribute('data-qr-at');
	// A QR code is worth scanning for a few minutes; after 10 the page stops asking (a reload starts again).
	var stopAt = Date.now() + 10 * 60 * 1000;
	function stop(reason) {
		var note = document.createElement('p');
		note.className = 'hint';
		note.setAttribute('role', 'status');
		note.textContent = reason;
		box.appendChild(note);
	}
	function later() {
		if (Date.now() > stopAt) {
			stop('Stopped refreshing the QR code. Reload the page to continue.');
			return;
		}
		setTimeout(poll, 3000);
	}
	function poll() {
		// A hidden tab does not ask the provider; it asks again once it is shown.
		if (document.hidden) {
			document.addEventListener('visibilitychange', poll, { once: true });
			return;
		}
		// X-Background-Poll: polling does not count as the operator being active (the idle sign-out still comes).
		fetch(box.getAttribute('data-connection-poll'), {
			headers: { Accept: 'application/json', 'X-Background-Poll': '1' },
			credentials: 'same-origin',
			redirect: 'error',
		})
			.then(function (response) {
				if (!response.ok || !/json/.test(response.headers.get('content-type') || ''))
					throw new Error('status ' + response.status);
				return response.json();
			})
			.then(function (answer) {
				if (answer.state === 'connected') {
					window.location.reload();
					return;
				}
				if (image && answer.qr_at && answer.qr_at !== lastQr) {
					image.src = image.src.replace(/([?&])t=[^&]*/, '$1').replace(/[?&]$/, '') + '&t=' + Date.now();
					lastQr = answer.qr_at;
				}
				later();
			})
			.catch(function () {
				stop('Stopped refreshing: the gateway did not answer (signed out, or the instance is gone). Reload the page.');
			});
	}
	setTimeout(poll, 3000);
})();

// ---- 3CX (part B): live template preview ----
// <textarea data-template-preview="/integrations/3cx/preview?account=N"> in a form with _csrf and
// [data-business-name]: the gateway renders the template with its own rule; <output data-preview-of=ID> shows it.
(function () {
	'use strict';
	var timers = {};
	function preview(textarea) {
		var form = textarea.form;
		var output = document.querySelector('[data-preview-of="' + textarea.id + '"]');
		if (!form || !output) return;
		var business = form.querySelector('[data-business-name]');
		var body = new URLSearchParams();
		body.set('_csrf', form.querySelector('input[name="_csrf"]').value);
		body.set('text', textarea.value);
		if (business) body.set('business_name', business.value);
		fetch(textarea.getAttribute('data-template-preview'), { method: 'POST', body: body, credentials: 'same-origin' })
			.then(function (response) {
				return response.ok ? response.json() : null;
			})
			.then(function (answer) {
				if (!answer) return;
				var unknown = answer.unknown_variables || [];
				output.textContent =
					answer.preview + (unknown.length ? '\n(unknown variables: ' + unknown.join(', ') + ')' : '');
				output.classList.toggle('warn', unknown.length > 0);
			});
	}
	function schedule(textarea) {
		clearTimeout(timers[textarea.id]);
		timers[textarea.id] = setTimeout(function () {
			preview(textarea);
		}, 150);
	}
	document.addEventListener('input', function (event) {
		var target = event.target;
		if (target.matches('[data-template-preview]')) schedule(target);
		if (target.matches('[data-business-name]') && target.form) {
			Array.prototype.forEach.call(target.form.querySelectorAll('[data-template-preview]'), schedule);
		}
	});
	Array.prototype.forEach.call(document.querySelectorAll('[data-template-preview]'), preview);
})();
