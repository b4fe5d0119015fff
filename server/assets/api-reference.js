// The API reference page (/docs/api): starts Swagger UI, served by the gateway, over its own /openapi.json.
(function () {
	'use strict';
	var target = document.getElementById('swagger-ui');
	if (!target || typeof window.SwaggerUIBundle !== 'function') return;
	window.SwaggerUIBundle({
		url: target.getAttribute('data-spec-url'),
		domNode: target,
		deepLinking: true,
		// No "valid" badge: it would send the document to an outside validator.
		validatorUrl: null,
		// Reading, not trying: "Try it out" would need an API key typed into the docs.
		supportedSubmitMethods: [],
		defaultModelsExpandDepth: 0,
	});
})();
