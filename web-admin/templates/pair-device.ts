// ABOUTME: The "Pair a device" panel of the device-links page (issue 14): a button that mints a QR pairing token;
// ABOUTME: pair-device.js fills in the QR image, the copyable deep link and the countdown. No inline script.
import { html, type SafeHtml } from "./html.js";

/** The script the page must include for the panel to work. */
export const PAIR_DEVICE_SCRIPT = "/static/pair-device.js";

/** The panel, with the result area hidden until a token is minted. */
export function pairDevicePanel(): SafeHtml {
  return html`<section class="card pair-device" data-testid="pair-panel">
  <h2>Pair a device</h2>
  <p>Scan the code with the coven app on the device. It works once, within 5 minutes.</p>
  <button type="button" data-testid="pair-device" data-mint-url="/api/admin/link/pair-token">Pair a device</button>
  <p class="form-error" data-testid="pair-error" role="alert" hidden></p>
  <div class="pair-result" data-testid="pair-result" hidden>
    <img data-testid="pair-qr" alt="QR code for pairing a device" width="256" height="256">
    <p><code id="pair-url" data-testid="pair-url"></code>
      <button type="button" class="link-button" data-copy-target="pair-url">Copy</button></p>
    <p>Expires in <time data-testid="pair-countdown" data-countdown datetime=""></time></p>
  </div>
</section>`;
}
