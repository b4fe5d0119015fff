/**
 * The instance's pairing QR code as the PNG both the operator API and the dashboard serve. qrcode is loaded
 * by the first one drawn, not at start: the sandbox never pairs.
 */
export async function qrPng(code: string): Promise<Buffer> {
	const { default: QRCode } = await import('qrcode');
	return QRCode.toBuffer(code, { type: 'png', margin: 2, width: 320 });
}
