/*
 * Sleutel's passkey screens (issue 21): runs the browser's own WebAuthn dialog through
 * @simplewebauthn/browser (/assets/webauthn.js, window.SimpleWebAuthnBrowser) and posts its answer
 * in the form's hidden field. The options come from the form's data attribute; no inline script
 * (CSP script-src 'self'). Without JavaScript the forms are not shown as usable: the pages say so.
 */
(function () {
  'use strict';
  var webauthn = window.SimpleWebAuthnBrowser;

  function ceremony(form, attribute, start) {
    var failure = form.querySelector('[data-passkey-error]');
    form.hidden = false;
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      if (failure) failure.hidden = true;
      var options = JSON.parse(form.getAttribute(attribute));
      start({ optionsJSON: options })
        .then(function (response) {
          form.querySelector('input[name="webauthn_response"]').value = JSON.stringify(response);
          form.submit(); // submit() fires no submit event: this handler does not run again
        })
        .catch(function () {
          // cancelled, timed out, or no matching passkey on this device: the person may try again
          if (failure) failure.hidden = false;
        });
    });
  }

  if (!webauthn || !webauthn.browserSupportsWebAuthn()) return;
  document.querySelectorAll('form[data-passkey-register]').forEach(function (form) {
    ceremony(form, 'data-passkey-register', webauthn.startRegistration);
  });
  document.querySelectorAll('form[data-passkey-authenticate]').forEach(function (form) {
    ceremony(form, 'data-passkey-authenticate', webauthn.startAuthentication);
  });
  document.querySelectorAll('[data-passkey-needs-script]').forEach(function (note) {
    note.hidden = true;
  });
})();
