/** The provider emulator used by the test suite; see emulator/provider-emulator.ts. */

export { KEEP_ALIVE_TEXT } from './emulator/delivery.js';
export { DEFAULT_MODEL_LISTS, EMULATOR_MODEL_IDS } from './emulator/model-lists.js';
export { openAiErrorBody } from './emulator/openai-protocol.js';
export { ProviderEmulator } from './emulator/provider-emulator.js';
export type { ResponseItem, ResponseTurn, StoredResponse } from './emulator/responses-store.js';
export type {
  Behaviour,
  ChatBehaviour,
  CutStreamBehaviour,
  ErrorBehaviour,
  LargeBehaviour,
  RawBehaviour,
  RecordedRequest,
  ResetBehaviour,
  StallBehaviour,
  StallStreamBehaviour,
  ToolCallSpec,
  UsageSpec,
} from './emulator/types.js';
