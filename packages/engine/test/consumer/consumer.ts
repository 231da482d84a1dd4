// Compiled against the built dist/ declarations by exports.test.ts, as a user's project would be.
import { type Engine, buffer_create, buffer_error_out_of_space, buffer_grow, buffer_u64, buffer_write, createEngine } from "@gmnet/engine";

const engine: Engine = createEngine();
const buffer: number = buffer_create(8, buffer_grow, 1);
const status: number = buffer_write(buffer, buffer_u64, 2n ** 60n);
const outOfSpace: -2 = buffer_error_out_of_space;
const fromEngine: -2 = engine.buffer_error_out_of_space;
export const checks = [status, outOfSpace, fromEngine];
