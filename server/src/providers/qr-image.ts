/**
 * The instance's pairing QR code as the PNG both the operator API and the dashboard serve. qrcode is loaded
 * by the first one drawn, not at start: the sandbox never pairs.
 */

/**
 * The longest QR code text the gateway keeps and draws: what one QR code of the largest size (version 40)
 * holds at error correction level M in byte mode, 2,331 UTF-8 bytes (level L would hold 2,953, for a code
 * harder to scan off a screen). WhatsApp's pairing codes are about 240 characters; anything longer that a
 * provider reports is dropped where it is parsed (docs/connect-whatsapp.md).
 */
export const QR_CODE_MAX_BYTES = 2331;

/** Whether a provider's QR code text can be drawn (not empty, at most QR_CODE_MAX_BYTES). */
export function qrCodeFits(code: string): boolean {
	return code.length > 0 && Buffer.byteLength(code, 'utf8') <= QR_CODE_MAX_BYTES;
}

/** The code as a PNG, or undefined when it cannot be drawn (then there is no QR code to show, not an error). */
export async function qrPng(code: string): Promise<Buffer | undefined> {
	if (!qrCodeFits(code)) return undefined;
	const { default: QRCode } = await import('qrcode');
	try {
		return await QRCode.toBuffer(code, { type: 'png', margin: 2, width: 320, errorCorrectionLevel: 'M' });
	} catch {
		return undefined;
	}
}
