/**
 * The WhatsApp Gateway node against the real gateway on a loopback port: every request goes over
 * HTTP through n8n's request semantics (test/helpers/n8n-execute.ts) into the Koa app with the
 * sandbox provider, so what the tests see is what an n8n user would see.
 */
import { NodeApiError, NodeOperationError, type INodeParameters } from 'n8n-workflow';
import { WhatsAppGatewayApi } from '../../credentials/WhatsAppGatewayApi.credentials';
import { WhatsAppGateway } from '../../nodes/WhatsAppGateway/WhatsAppGateway.node';
import { ERROR_TABLE } from '../../server/src/http/errors';
import type { SandboxSend } from '../../server/src/providers/sandbox';
import { createTestGateway, listen, PHONE, type TestGateway } from '../helpers/gateway';
import { createNodeRun, type NodeRunOptions } from '../helpers/n8n-execute';

const OTHER_PHONE = '+966501234568';
/** The smallest file a PDF reader opens; enough for the gateway, which only checks base64 and size. */
const PDF = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n', 'latin1');

let t: TestGateway;
let server: { url: string; close: () => Promise<void> };
let sent: SandboxSend[];

beforeEach(async () => {
  t = createTestGateway();
  server = await listen(t.gateway.createApp().callback());
  sent = [];
  t.sandbox.onSend((send) => sent.push(send));
});

afterEach(async () => {
  await server.close();
  t.close();
});

function nodeRun(parameters: INodeParameters = {}, options: Partial<NodeRunOptions> = {}) {
  return createNodeRun({
    nodeType: new WhatsAppGateway(),
    parameters: {
      instanceId: { __rl: true, mode: 'list', value: t.instanceId },
      phone: PHONE,
      messagePurpose: 'transactional',
      message: 'Your order #2041 has shipped.',
      ...parameters,
    },
    // A trailing slash, as users paste it: the node must not call "//api/send-message".
    credentials: { whatsAppGatewayApi: { baseUrl: `${server.url}/`, apiKey: t.apiKey } },
    credentialTypes: [new WhatsAppGatewayApi()],
    ...options,
  });
}

async function executionError(run: ReturnType<typeof nodeRun>): Promise<NodeApiError | NodeOperationError> {
  const error = await run.execute().then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof NodeApiError) && !(error instanceof NodeOperationError)) {
    throw new Error(`expected a NodeApiError or NodeOperationError, got ${String(error)}`);
  }
  return error;
}

describe('send a text message', () => {
  it('returns success, status, message_id and log_id paired with the item; the sandbox got the text', async () => {
    const run = nodeRun();
    const output = await run.execute();

    expect(output).toEqual([
      [
        {
          json: { success: true, status: 'sent', message_id: expect.stringMatching(/^sandbox\./), log_id: expect.any(Number) },
          pairedItem: { item: 0 },
        },
      ],
    ]);
    expect(sent).toEqual([
      expect.objectContaining({ messageId: output[0][0].json.message_id, to: PHONE, text: 'Your order #2041 has shipped.', media: undefined }),
    ]);
    const [{ request }] = run.exchanges;
    expect(request.method).toBe('POST');
    expect(request.url).toBe(`${server.url}/api/send-message`);
    expect(request.headers.Authorization).toBe(`Bearer ${t.apiKey}`);
    expect(request.body).toEqual({
      instance_id: t.instanceId,
      phone: PHONE,
      message: 'Your order #2041 has shipped.',
      message_purpose: 'transactional',
    });
  });

  it('accepts the instance by name (mode "By ID or Name") and one request per item, phone from an expression', async () => {
    const run = nodeRun(
      { instanceId: { __rl: true, mode: 'id', value: 'demo-support-line' }, phone: '={{ $json.phone }}' },
      { items: [{ json: { phone: PHONE } }, { json: { phone: OTHER_PHONE } }] },
    );
    const [items] = await run.execute();

    expect(items.map((item) => [item.json.status, item.pairedItem])).toEqual([
      ['sent', { item: 0 }],
      ['sent', { item: 1 }],
    ]);
    expect(sent.map((send) => send.to)).toEqual([PHONE, OTHER_PHONE]);
  });
});

describe('Idempotency-Key', () => {
  it('is derived from the n8n instance, execution, node, run and item', async () => {
    const run = nodeRun({}, { items: [{ json: {} }, { json: {} }], executionId: '4711', runIndex: 2 });
    await run.execute();

    const node = run.node.id;
    expect(run.exchanges.map((exchange) => exchange.request.headers['Idempotency-Key'])).toEqual([
      `n8n:a3f1c9e2b7d4058e:4711:${node}:2:0`,
      `n8n:a3f1c9e2b7d4058e:4711:${node}:2:1`,
    ]);
  });

  it('a second run of the same execution and item (Retry On Fail) gets the first answer back and sends nothing', async () => {
    const first = await nodeRun({}, { executionId: '4711' }).execute();
    const retry = nodeRun({}, { executionId: '4711' });
    const second = await retry.execute();

    expect(second).toEqual(first);
    expect(sent).toHaveLength(1);
    expect(retry.exchanges[0].response?.headers['idempotent-replayed']).toBe('true');
  });

  it('another execution, or another run of the node in a loop, sends again', async () => {
    const [[first]] = await nodeRun({}, { executionId: '4711' }).execute();
    const [[loop]] = await nodeRun({}, { executionId: '4711', runIndex: 1 }).execute();

    expect(loop.json.log_id).not.toBe(first.json.log_id);
    expect(sent).toHaveLength(2);
  });

  it('the Idempotency Key option replaces the derived key', async () => {
    const run = nodeRun({ options: { idempotencyKey: 'order-2041-shipped' } });
    await run.execute();
    await nodeRun({ options: { idempotencyKey: 'order-2041-shipped' } }, { executionId: '9999' }).execute();

    expect(run.exchanges[0].request.headers['Idempotency-Key']).toBe('order-2041-shipped');
    expect(sent).toHaveLength(1);
  });

  it('an override the gateway would refuse is a NodeOperationError before any request', async () => {
    const run = nodeRun({ options: { idempotencyKey: 'order 2041' } });
    const error = await executionError(run);

    expect(error).toBeInstanceOf(NodeOperationError);
    expect(error.message).toBe('The Idempotency Key is not valid');
    expect(run.exchanges).toHaveLength(0);
  });
});

describe('media', () => {
  const pdfItem = (fileName?: string) => ({
    json: {},
    binary: {
      data: { data: PDF.toString('base64'), mimeType: 'application/pdf', fileExtension: 'pdf', ...(fileName ? { fileName } : {}) },
    },
  });

  it('a PDF from the binary field reaches the gateway as a document: base64 content, MIME type, file name', async () => {
    const run = nodeRun(
      { message: 'Your invoice INV-2041 is ready.', sendMedia: true, mediaType: 'document' },
      { items: [pdfItem('INV-2041.pdf')] },
    );
    const [[item]] = await run.execute();

    expect(item.json).toMatchObject({ success: true, status: 'sent' });
    expect(sent).toEqual([
      expect.objectContaining({
        text: 'Your invoice INV-2041 is ready.',
        media: { type: 'document', mimeType: 'application/pdf', fileName: 'INV-2041.pdf', url: undefined, bytes: PDF.length },
      }),
    ]);
    expect(run.exchanges[0].request.body).toMatchObject({
      media_type: 'document',
      mime_type: 'application/pdf',
      file_name: 'INV-2041.pdf',
      media: PDF.toString('base64'),
    });
  });

  it('File Name overrides the binary file name', async () => {
    await nodeRun(
      { sendMedia: true, mediaType: 'document', fileName: 'Invoice 2041.pdf' },
      { items: [pdfItem('tmp-upload-123.pdf')] },
    ).execute();

    expect(sent[0].media?.fileName).toBe('Invoice 2041.pdf');
  });

  it('a document without any file name is a NodeOperationError; nothing is sent', async () => {
    const run = nodeRun({ sendMedia: true, mediaType: 'document' }, { items: [pdfItem()] });
    const error = await executionError(run);

    expect(error).toBeInstanceOf(NodeOperationError);
    expect(error.message).toBe('A document needs a file name');
    expect(error.context.itemIndex).toBe(0);
    expect(run.exchanges).toHaveLength(0);
  });

  it('a binary field that does not exist is a NodeOperationError with the item index', async () => {
    const run = nodeRun(
      { sendMedia: true, mediaType: 'document', binaryPropertyName: 'invoice' },
      { items: [{ json: {} }, pdfItem('INV-2041.pdf')] },
    );
    const error = await executionError(run);

    expect(error).toBeInstanceOf(NodeOperationError);
    expect(error.message).toBe("This operation expects the node's input data to contain a binary file 'invoice', but none was found [item 0]");
    expect(error.context.itemIndex).toBe(0);
    expect(sent).toHaveLength(0);
  });

  it('media from a URL: the URL, the MIME type and the file name taken from the URL', async () => {
    await nodeRun({
      sendMedia: true,
      mediaType: 'document',
      mediaSource: 'url',
      mediaUrl: 'https://files.example.com/invoices/INV-2041.pdf',
      mimeType: 'application/pdf',
    }).execute();

    expect(sent[0].media).toEqual({
      type: 'document',
      mimeType: 'application/pdf',
      fileName: 'INV-2041.pdf',
      url: 'https://files.example.com/invoices/INV-2041.pdf',
      bytes: undefined,
    });
  });
});

describe('gateway errors reach the user', () => {
  it('invalid_instance: NodeApiError with the code and message, HTTP 404, details in the description', async () => {
    const error = await executionError(nodeRun({ instanceId: { __rl: true, mode: 'id', value: 'no-such-line' } }));

    expect(error).toBeInstanceOf(NodeApiError);
    expect(error.message).toBe(`invalid_instance: ${ERROR_TABLE.invalid_instance.message}`);
    expect((error as NodeApiError).httpCode).toBe('404');
    expect(error.description).toBe('Details: {"instance_id":"no-such-line"}');
    expect(error.context.itemIndex).toBe(0);
    expect(error.errorResponse).toEqual({
      success: false,
      error: 'invalid_instance',
      message: ERROR_TABLE.invalid_instance.message,
      details: { instance_id: 'no-such-line' },
    });
  });

  it('recipient_suppressed: NodeApiError with HTTP 403 and the suppression source', async () => {
    t.gateway.suppressions.add(t.accountId, PHONE, 'x', 'manual');
    const error = await executionError(nodeRun());

    expect(error).toBeInstanceOf(NodeApiError);
    expect(error.message).toBe(`recipient_suppressed: ${ERROR_TABLE.recipient_suppressed.message}`);
    expect((error as NodeApiError).httpCode).toBe('403');
    expect(error.description).toBe(`Details: {"phone":"${PHONE}","source":"manual"}`);
    expect(sent).toHaveLength(0);
  });

  it('a wrong API key: invalid_api_key, HTTP 401', async () => {
    const run = createNodeRun({
      nodeType: new WhatsAppGateway(),
      parameters: { instanceId: { __rl: true, mode: 'id', value: 'demo-support-line' }, phone: PHONE, messagePurpose: 'support' },
      credentials: { whatsAppGatewayApi: { baseUrl: server.url, apiKey: 'wg_live_unknown' } },
      credentialTypes: [new WhatsAppGatewayApi()],
    });
    const error = await executionError(run);

    expect(error.message).toBe(`invalid_api_key: ${ERROR_TABLE.invalid_api_key.message}`);
    expect((error as NodeApiError).httpCode).toBe('401');
  });

  it('no purpose chosen is a NodeOperationError before any request', async () => {
    const run = nodeRun({ messagePurpose: '' });
    const error = await executionError(run);

    expect(error).toBeInstanceOf(NodeOperationError);
    expect(error.message).toBe('Choose a Message Purpose');
    expect(run.exchanges).toHaveLength(0);
  });

  it('a server that is not a WhatsApp Gateway: unexpected_response with the status', async () => {
    const other = await listen((_req, res) => {
      res.writeHead(404, { 'Content-Type': 'text/html' }).end('<h1>Not Found</h1>');
    });
    try {
      const run = createNodeRun({
        nodeType: new WhatsAppGateway(),
        parameters: { instanceId: { __rl: true, mode: 'id', value: 'demo-support-line' }, phone: PHONE, messagePurpose: 'support' },
        credentials: { whatsAppGatewayApi: { baseUrl: other.url, apiKey: t.apiKey } },
        credentialTypes: [new WhatsAppGatewayApi()],
      });
      const error = await executionError(run);

      expect(error.message).toMatch(/^unexpected_response: The server at the credential's Base URL answered HTTP 404/);
      expect((error as NodeApiError).httpCode).toBe('404');
    } finally {
      await other.close();
    }
  });

  it('a gateway that is down: NodeApiError for the item', async () => {
    const run = nodeRun();
    await server.close();
    const error = await executionError(run);

    expect(error).toBeInstanceOf(NodeApiError);
    expect(error.message).toBe('The service refused the connection - perhaps it is offline');
    expect(error.context.itemIndex).toBe(0);
    server = await listen(t.gateway.createApp().callback());
  });
});

describe('Continue On Fail', () => {
  it('turns a refusal into an item with the gateway error and http_status, and goes on with the next item', async () => {
    t.gateway.suppressions.add(t.accountId, PHONE, 'x', 'manual');
    const run = nodeRun(
      { phone: '={{ $json.phone }}' },
      { items: [{ json: { phone: PHONE } }, { json: { phone: OTHER_PHONE } }], onError: 'continueRegularOutput' },
    );
    const [items] = await run.execute();

    expect(items).toEqual([
      {
        json: {
          success: false,
          error: 'recipient_suppressed',
          message: ERROR_TABLE.recipient_suppressed.message,
          details: { phone: PHONE, source: 'manual' },
          http_status: 403,
        },
        pairedItem: { item: 0 },
      },
      { json: expect.objectContaining({ success: true, status: 'sent' }), pairedItem: { item: 1 } },
    ]);
    expect(sent.map((send) => send.to)).toEqual([OTHER_PHONE]);
  });

  it('turns bad input into an invalid_input item', async () => {
    const [items] = await nodeRun(
      { sendMedia: true, mediaType: 'image' },
      { onError: 'continueRegularOutput' },
    ).execute();

    expect(items).toEqual([
      {
        json: {
          success: false,
          error: 'invalid_input',
          message: "This operation expects the node's input data to contain a binary file 'data', but none was found [item 0]",
          details: {},
          http_status: null,
        },
        pairedItem: { item: 0 },
      },
    ]);
  });
});

describe('Instance list (listSearch)', () => {
  it('lists the account\'s instances as "Display Name (name)" with the instance id as value, filtered by the search text', async () => {
    const billing = t.gateway.instances.create({
      accountId: t.accountId,
      name: 'billing-line',
      displayName: 'Billing',
      provider: 'sandbox',
      connectionState: 'connected',
    });
    const run = nodeRun();

    expect(await run.listSearch('searchInstances')).toEqual({
      results: expect.arrayContaining([
        { name: 'Demo Support Line (demo-support-line)', value: t.instanceId },
        { name: 'Billing (billing-line)', value: billing.id },
      ]),
    });
    expect(await run.listSearch('searchInstances', 'SUPPORT')).toEqual({
      results: [{ name: 'Demo Support Line (demo-support-line)', value: t.instanceId }],
    });
    expect(await run.listSearch('searchInstances', 'nothing like it')).toEqual({ results: [] });
    expect(run.exchanges[0].request.headers.Authorization).toBe(`Bearer ${t.apiKey}`);
  });

  it('a wrong key is a NodeApiError the editor shows', async () => {
    const run = createNodeRun({
      nodeType: new WhatsAppGateway(),
      parameters: {},
      credentials: { whatsAppGatewayApi: { baseUrl: server.url, apiKey: 'wg_live_unknown' } },
      credentialTypes: [new WhatsAppGatewayApi()],
    });

    await expect(run.listSearch('searchInstances')).rejects.toThrow(`invalid_api_key: ${ERROR_TABLE.invalid_api_key.message}`);
  });
});
