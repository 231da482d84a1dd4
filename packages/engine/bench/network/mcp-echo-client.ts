/**
 * The mcp configuration's B (network.bench.ts): an MCP client on the signaling server's /mcp,
 * calling a tool engine A offers.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { EchoInbox, type EchoPath } from "./echo-path.js";
import { MAX_SIZE, MCP_TOKEN, MCP_TOOL } from "./options.js";

/**
 * The mcp configuration's B: an MCP client (the official SDK, Streamable HTTP) calling A's `echo`
 * tool, as an LLM agent's client would. Each send is a tools/call whose promise brings the echo.
 */
export class McpEchoClient implements EchoPath {
  offPath = 0;
  private readonly inbox = new EchoInbox();
  /** Sliced for every call's `pad`: the message's size in characters of JSON arguments. */
  private readonly pad = "x".repeat(MAX_SIZE);

  private constructor(
    private readonly client: Client,
    private readonly transport: StreamableHTTPClientTransport,
  ) {}

  static async open(url: string): Promise<McpEchoClient> {
    const client = new Client({ name: "gmnet-network-bench", version: "1.0.0" });
    const transport = new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${MCP_TOKEN}` } } });
    await client.connect(transport);
    return new McpEchoClient(client, transport);
  }

  send(seq: number, size: number): void {
    // A rejected or failed call closes the inbox: the bench stops with the reason instead of
    // counting the message as lost (a refusal is not a loss, and would repeat for every call).
    this.client.callTool({ name: MCP_TOOL, arguments: { seq, pad: this.pad.slice(0, size) } }).then(
      (result) => {
        const first = (result.content as ReadonlyArray<{ type: string; text?: unknown }> | undefined)?.[0];
        const echo = first?.type === "text" ? Number(first.text) : NaN;
        if (result.isError === true || !Number.isInteger(echo)) this.inbox.close(`MCP client: ${MCP_TOOL} answered ${JSON.stringify(result).slice(0, 200)}`);
        else this.inbox.push(echo);
      },
      (error: unknown) => this.inbox.close(`MCP client: ${MCP_TOOL} call ${seq} failed: ${error instanceof Error ? error.message : String(error)}`),
    );
  }

  receive(timeoutMs: number, onEcho: (seq: number) => void): Promise<boolean> {
    return this.inbox.receive(timeoutMs, onEcho);
  }

  /** Set by the echoing engine's loop when it cannot answer or loses its connection. */
  report(problem: string): void {
    this.inbox.close(problem);
  }

  async close(): Promise<void> {
    // Ends the server's MCP session too (a DELETE), so rounds do not pile up sessions until the
    // server's mcpMaxSessions; only then the client and its transport.
    await this.transport.terminateSession().catch(() => undefined);
    await this.client.close();
  }
}
