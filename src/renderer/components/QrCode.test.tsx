import QRCode from 'qrcode';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { QrCode, QUIET_ZONE } from './QrCode.js';

/** The dark modules an SVG path of `M x y h n v1 h-n z` runs covers, as "x,y" cells. */
function cellsOf(path: string): Set<string> {
  const cells = new Set<string>();
  for (const [, x, y, n] of path.matchAll(/M(\d+) (\d+)h(\d+)v1h-\3z/g)) {
    for (let i = 0; i < Number(n); i++)
      cells.add(`${Number(x) + i - QUIET_ZONE},${Number(y) - QUIET_ZONE}`);
  }
  return cells;
}

describe('the QR code of the authenticator address', () => {
  const uri =
    'otpauth://totp/FireBackup%20(team.example):ada%40acme.test?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=FireBackup%20(team.example)&algorithm=SHA1&digits=6&period=30';

  it('is an SVG with the symbol’s module count, every dark module drawn and no other', () => {
    const html = renderToStaticMarkup(
      <QrCode text={uri} label="QR code for your authenticator app" />,
    );
    const { size, data } = QRCode.create(uri, { errorCorrectionLevel: 'M' }).modules;
    expect(html).toMatch(/^<svg [^>]*role="img"[^>]*>/);
    expect(html).toContain('aria-label="QR code for your authenticator app"');
    expect(html).toContain(`data-modules="${size}"`);
    const side = size + 2 * QUIET_ZONE;
    expect(html).toContain(`viewBox="0 0 ${side} ${side}"`);
    expect(html).not.toMatch(/style=|data:|<image|<script/); // nothing the CSP refuses

    const path = /<path d="([^"]+)"/.exec(html)![1]!;
    const drawn = cellsOf(path);
    const dark = new Set<string>();
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) if (data[y * size + x]) dark.add(`${x},${y}`);
    expect(dark.size).toBeGreaterThan(size * 2); // a real symbol, not an empty one
    expect(drawn).toEqual(dark);
  });

  it('changes with the address (another secret, another symbol)', () => {
    const other = uri.replace('JBSWY3DP', 'KRSXG5CT');
    const a = renderToStaticMarkup(<QrCode text={uri} label="x" />);
    const b = renderToStaticMarkup(<QrCode text={other} label="x" />);
    expect(a).not.toBe(b);
  });
});
