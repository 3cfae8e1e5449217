// ABOUTME: Test helper: decodes a `data:image/png;base64,…` QR code with pngjs + jsqr, independent of the encoder.
// ABOUTME: Also reports the symbol version and the PNG's size, so tests can check error correction and 256 px.
import jsqr from "jsqr";
import { PNG } from "pngjs";

const PREFIX = "data:image/png;base64,";
/** jsqr is CommonJS with a `default` property; under NodeNext types the default import is its namespace. */
const jsQR = jsqr.default;

/** Decodes the QR code in a PNG data URL; throws when it is not one or holds no readable code. */
export function decodeQrDataUrl(dataUrl: string): { text: string; version: number; width: number; height: number } {
  if (!dataUrl.startsWith(PREFIX)) throw new Error(`not a PNG data URL: ${dataUrl.slice(0, 40)}`);
  const png = PNG.sync.read(Buffer.from(dataUrl.slice(PREFIX.length), "base64"));
  const code = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
  if (code === null) throw new Error("no QR code found in the PNG");
  return { text: code.data, version: code.version, width: png.width, height: png.height };
}
