/**
 * The `POST /api/send-message` request for one input item: the JSON body from the node's
 * parameters (and the item's binary file) and the `Idempotency-Key` header.
 */
import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';
import { isValidIdempotencyKey } from '../../../../contract/src/idempotency';

export interface SendRequest {
	body: IDataObject;
	idempotencyKey: string | undefined;
}

export interface IdempotencyScope {
	instanceId: string;
	executionId: string | undefined;
	nodeId: string;
	runIndex: number;
	itemIndex: number;
}

/**
 * The same for every attempt at one item of one node run in one execution: n8n's Retry On Fail
 * re-runs `execute()` with the same execution id and run index, so a retry after a lost answer gets
 * the first send's answer back instead of sending again. The run index keeps loop iterations apart,
 * the n8n instance id keeps two n8n installations on one gateway account apart (execution ids are
 * only unique per installation). Without an execution id there is nothing stable to derive from.
 */
export function derivedIdempotencyKey(scope: IdempotencyScope): string | undefined {
	if (!scope.executionId) return undefined;
	const key = [
		'n8n',
		scope.instanceId.slice(0, 16),
		scope.executionId,
		scope.nodeId,
		scope.runIndex,
		scope.itemIndex,
	].join(':');
	return key.replace(/[^\x21-\x7e]/g, '_').slice(0, 255);
}

function fileNameFromUrl(url: string): string | undefined {
	try {
		const last = new URL(url).pathname.split('/').pop();
		return last ? decodeURIComponent(last) : undefined;
	} catch {
		return undefined;
	}
}

/** `media_type`, `mime_type`, `file_name` and `media` (base64 content or an https URL). */
async function mediaFields(this: IExecuteFunctions, itemIndex: number): Promise<IDataObject> {
	const mediaType = this.getNodeParameter('mediaType', itemIndex) as string;
	const source = this.getNodeParameter('mediaSource', itemIndex) as string;
	const fileNameOverride = (this.getNodeParameter('fileName', itemIndex, '') as string).trim();

	let media: string;
	let mimeType: string;
	let fileName: string | undefined;
	if (source === 'url') {
		media = (this.getNodeParameter('mediaUrl', itemIndex) as string).trim();
		mimeType = (this.getNodeParameter('mimeType', itemIndex) as string).trim();
		fileName = fileNameOverride || fileNameFromUrl(media);
	} else {
		const binaryPropertyName = this.getNodeParameter('binaryPropertyName', itemIndex) as string;
		const binary = this.helpers.assertBinaryData(itemIndex, binaryPropertyName);
		const content = await this.helpers.getBinaryDataBuffer(itemIndex, binaryPropertyName);
		media = content.toString('base64');
		// n8n may keep parameters ("text/plain; charset=utf-8"); the gateway wants the bare type.
		mimeType = (binary.mimeType ?? '').split(';')[0].trim();
		fileName = fileNameOverride || binary.fileName;
	}

	if (!mimeType) {
		throw new NodeOperationError(this.getNode(), 'The media has no MIME type', {
			itemIndex,
			description: 'Set the MIME Type parameter, e.g. application/pdf',
		});
	}
	if (mediaType === 'document' && !fileName) {
		throw new NodeOperationError(this.getNode(), 'A document needs a file name', {
			itemIndex,
			description: 'Set the File Name parameter, e.g. INV-2041.pdf',
		});
	}
	return {
		media_type: mediaType,
		mime_type: mimeType,
		...(fileName ? { file_name: fileName } : {}),
		media,
	};
}

export async function buildSendRequest(
	this: IExecuteFunctions,
	itemIndex: number,
	runIndex: number,
): Promise<SendRequest> {
	const purpose = this.getNodeParameter('messagePurpose', itemIndex) as string;
	if (!purpose) {
		throw new NodeOperationError(this.getNode(), 'Choose a Message Purpose', {
			itemIndex,
			description:
				'The gateway needs to know why the message is sent: transactional, operational, support, internal team or authentication.',
		});
	}

	const body: IDataObject = {
		instance_id: this.getNodeParameter('instanceId', itemIndex, '', { extractValue: true }) as string,
		phone: (this.getNodeParameter('phone', itemIndex) as string).trim(),
		message: this.getNodeParameter('message', itemIndex, '') as string,
		message_purpose: purpose,
	};
	if (this.getNodeParameter('sendMedia', itemIndex, false) as boolean) {
		Object.assign(body, await mediaFields.call(this, itemIndex));
	}

	const options = this.getNodeParameter('options', itemIndex, {}) as { idempotencyKey?: string };
	const override = options.idempotencyKey?.trim() ?? '';
	if (override !== '' && !isValidIdempotencyKey(override)) {
		throw new NodeOperationError(this.getNode(), 'The Idempotency Key is not valid', {
			itemIndex,
			description: 'Use 1 to 255 visible ASCII characters: no spaces, no accents.',
		});
	}
	const idempotencyKey =
		override ||
		derivedIdempotencyKey({
			instanceId: this.getInstanceId(),
			executionId: this.getExecutionId(),
			nodeId: this.getNode().id,
			runIndex,
			itemIndex,
		});
	return { body, idempotencyKey };
}
