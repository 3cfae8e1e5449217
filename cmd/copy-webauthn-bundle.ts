// ABOUTME: Build step (npm run build): copies @simplewebauthn/browser's UMD bundle into web-admin/static/vendor/,
// ABOUTME: where the gateway serves it as /static/vendor/simplewebauthn-browser.umd.min.js (never a CDN).
import { copyVendoredWebAuthnBundle, findStaticRoot } from "../src/webadmin/static-files.js";

const target = copyVendoredWebAuthnBundle(findStaticRoot());
console.log(`copied the passkey bundle to ${target}`);
