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
      setTimeout(function () { button.textContent = label; }, 1500);
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
// <div data-connection-poll="/instances/ID/connection?account=N"> with <img data-qr-image>: every 3 seconds
// asks the gateway for the state; reloads the page once it says connected, else shows the latest QR code.
(function () {
  'use strict';
  var box = document.querySelector('[data-connection-poll]');
  if (!box) return;
  var image = box.querySelector('[data-qr-image]');
  var lastQr = null;
  function poll() {
    fetch(box.getAttribute('data-connection-poll'), { headers: { Accept: 'application/json' }, credentials: 'same-origin' })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (answer) {
        if (answer && answer.state === 'connected') { window.location.reload(); return; }
        if (answer && image && answer.qr_at && answer.qr_at !== lastQr) {
          if (lastQr !== null) image.src = image.src.replace(/([?&])t=[^&]*/, '$1').replace(/[?&]$/, '') + '&t=' + Date.now();
          lastQr = answer.qr_at;
        }
        setTimeout(poll, 3000);
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 3000);
})();
