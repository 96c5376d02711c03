import QRCode from 'qrcode';

/**
 * What `firebackup login` asks when the server requires two-step sign-in and this account
 * has no authenticator yet: the otpauth:// address and the key as text (always: they can
 * be copied or typed), and, when the question goes to a terminal, the address drawn as a
 * QR code under the key for the phone's authenticator app to scan. Not drawn when the
 * question goes to a file or a pipe (a log would keep a picture of the secret, and nobody
 * can scan it there). Only the terminal sees it: nothing here is logged.
 */
export async function enrolmentQuestion(
  request: { otpauthUri: string; secret: string },
  terminal: boolean,
): Promise<string> {
  const text = [
    'This server requires two-step sign-in. Add this account to your authenticator app:',
    '',
    `  ${request.otpauthUri}`,
    '',
    terminal
      ? `Or type the key ${request.secret}, or scan this QR code with the app:`
      : `(or type the key ${request.secret})`,
  ];
  if (terminal)
    text.push(
      '',
      await QRCode.toString(request.otpauthUri, {
        type: 'terminal',
        small: true,
        errorCorrectionLevel: 'M',
      }),
    );
  return `${text.join('\n')}\nThen enter the 6-digit code it shows: `;
}
