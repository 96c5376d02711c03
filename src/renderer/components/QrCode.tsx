import QRCode from 'qrcode';
import { useMemo } from 'react';

/** The white margin QR readers need around the symbol, in modules (ISO/IEC 18004: 4). */
export const QUIET_ZONE = 4;

/**
 * The symbol's dark modules as one SVG path, a rectangle per horizontal run of dark
 * modules (shifted by the quiet zone), and the symbol's size in modules per side.
 * Drawn here from `QRCode.create`'s matrix rather than a data: URL or a canvas: the
 * renderer's CSP allows neither inline styles nor anything but its own resources, and the
 * address (it holds the authenticator secret) never leaves the page.
 */
export function qrDrawing(text: string): { size: number; path: string } {
  const { size, data } = QRCode.create(text, { errorCorrectionLevel: 'M' }).modules;
  const runs: string[] = [];
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size;) {
      if (!data[y * size + x]) {
        x++;
        continue;
      }
      const start = x;
      while (x < size && data[y * size + x]) x++;
      const run = x - start;
      runs.push(`M${start + QUIET_ZONE} ${y + QUIET_ZONE}h${run}v1h-${run}z`);
    }
  }
  return { size, path: runs.join('') };
}

/**
 * A QR code of `text` as inline SVG (presentation attributes only, no style), dark on
 * white whatever the theme, as scanners expect. `label` is its accessible name.
 */
export function QrCode({ text, label }: { text: string; label: string }) {
  const { size, path } = useMemo(() => qrDrawing(text), [text]);
  const side = size + 2 * QUIET_ZONE;
  return (
    <svg
      className="qr-code"
      role="img"
      aria-label={label}
      viewBox={`0 0 ${side} ${side}`}
      shapeRendering="crispEdges"
      data-modules={size}
    >
      <rect width={side} height={side} fill="#ffffff" />
      <path d={path} fill="#000000" />
    </svg>
  );
}
