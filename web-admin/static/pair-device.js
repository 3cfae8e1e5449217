// ABOUTME: The device-links page's "Pair a device" button: mints a QR pairing token and shows the QR image, the
// ABOUTME: copyable coven://pair deep link and a countdown to expiry (docs/pairing.md). Needs app.js (CovenAdmin).
(function () {
  "use strict";

  function part(panel, id) {
    return panel.querySelector('[data-testid="' + id + '"]');
  }

  function setup() {
    var button = document.querySelector('[data-testid="pair-device"]');
    var panel = document.querySelector('[data-testid="pair-panel"]');
    var admin = window.CovenAdmin;
    if (!button || !panel || !admin) return;
    var result = part(panel, "pair-result");
    var error = part(panel, "pair-error");
    var image = part(panel, "pair-qr");
    var link = part(panel, "pair-url");
    var countdown = part(panel, "pair-countdown");

    button.addEventListener("click", function () {
      button.disabled = true;
      error.hidden = true;
      admin.request("POST", button.getAttribute("data-mint-url")).then(
        function (answer) {
          button.disabled = false;
          if (!answer.ok || !answer.body || typeof answer.body.qr !== "string") {
            result.hidden = true;
            error.textContent = admin.errorText(answer);
            error.hidden = false;
            return;
          }
          image.src = answer.body.qr;
          link.textContent = answer.body.url;
          countdown.setAttribute("datetime", answer.body.expires_at);
          countdown.textContent = admin.countdownText(answer.body.expires_at);
          result.hidden = false;
        },
        function () {
          button.disabled = false;
          result.hidden = true;
          error.textContent = "Request failed";
          error.hidden = false;
        },
      );
    });
  }

  document.addEventListener("DOMContentLoaded", setup);
})();
