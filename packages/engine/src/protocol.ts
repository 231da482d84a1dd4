/** `@gmnet/engine/protocol`: kept for code written before the wire protocol became `@gmnet/protocol`. */
export * from "@gmnet/protocol";
