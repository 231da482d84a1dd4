/**
 * What a Hello must be before its identity is looked up (PROTOCOL.md §7): this server's protocol
 * version, a valid app key (the one rule, in @gmnet/protocol), and an identity secret of at least
 * 128 bits.
 */
import { APP_KEY_RULE, CloseCode, type HelloMessage, PROTOCOL_VERSION, ProtocolError, isValidAppKey } from "@gmnet/protocol";

/** Base64url, at least 22 characters = 128 bits. */
const SECRET = /^[A-Za-z0-9_-]{22,128}$/;

/** Why a Hello is refused: the ERROR's code, the close code and the message both carry. */
export interface HelloRefusal {
  readonly code: number;
  readonly closeCode: number;
  readonly message: string;
}

/** The reason to refuse `hello`, or undefined when it may go on to its identity. */
export function helloRefusal(hello: HelloMessage): HelloRefusal | undefined {
  if (hello.version !== PROTOCOL_VERSION) {
    return { code: ProtocolError.VERSION_MISMATCH, closeCode: CloseCode.VERSION_MISMATCH, message: `protocol version ${hello.version} is not supported; this server speaks ${PROTOCOL_VERSION}` };
  }
  if (!isValidAppKey(hello.appKey)) return { code: ProtocolError.BAD_HELLO, closeCode: CloseCode.BAD_HELLO, message: `the app key must be ${APP_KEY_RULE}` };
  if (!SECRET.test(hello.secret)) return { code: ProtocolError.BAD_HELLO, closeCode: CloseCode.BAD_HELLO, message: "the identity secret must be 22–128 base64url characters (128 bits or more)" };
  return undefined;
}
