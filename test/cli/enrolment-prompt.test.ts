import QRCode from 'qrcode';
import { describe, expect, it } from 'vitest';
import { enrolmentQuestion } from '../../src/cli/enrolment-prompt.js';

/**
 * `firebackup login`'s authenticator set-up question: the address and the key as text
 * always; the address as a terminal QR code under the key only when the question goes to a
 * terminal (login.ts passes whether its stderr is a TTY), never into a pipe or a file.
 */
describe('the enrolment question of firebackup login', () => {
  const request = {
    otpauthUri:
      'otpauth://totp/FireBackup:ada%40acme.test?issuer=FireBackup&secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&algorithm=SHA1&digits=6&period=30',
    secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP',
  };

  it('at a terminal: the address, the key, then the address as a QR code, then the question', async () => {
    const question = await enrolmentQuestion(request, true);
    const qr = await QRCode.toString(request.otpauthUri, {
      type: 'terminal',
      small: true,
      errorCorrectionLevel: 'M',
    });
    expect(qr).toMatch(/[▀▄█]/);
    const at = (part: string) => {
      const index = question.indexOf(part);
      expect(index, part).toBeGreaterThanOrEqual(0);
      return index;
    };
    expect(at(request.otpauthUri)).toBeLessThan(at(request.secret));
    expect(at(request.secret)).toBeLessThan(at(qr));
    expect(at(qr)).toBeLessThan(at('Then enter the 6-digit code'));
    // Two text rows per printed line: a symbol of n modules and its quiet zone in ~n/2 lines.
    const size = QRCode.create(request.otpauthUri, { errorCorrectionLevel: 'M' }).modules.size;
    expect(qr.trimEnd().split('\n').length).toBeLessThanOrEqual(Math.ceil(size / 2) + 2);
    expect(question.endsWith('Then enter the 6-digit code it shows: ')).toBe(true);
  });

  it('into a pipe or a file: text only, no QR code (no escape codes, no block characters)', async () => {
    const question = await enrolmentQuestion(request, false);
    expect(question).toContain(request.otpauthUri);
    expect(question).toContain(`(or type the key ${request.secret})`);
    expect(question).not.toMatch(/[▀▄█]/);
    expect(question).not.toContain('\u001b['); // no terminal colour codes
    expect(question).not.toMatch(/QR/);
  });
});
