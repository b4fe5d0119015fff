import QRCode from 'qrcode';

/** The instance's pairing QR code as the PNG both the operator API and the dashboard serve. */
export function qrPng(code: string): Promise<Buffer> {
  return QRCode.toBuffer(code, { type: 'png', margin: 2, width: 320 });
}
