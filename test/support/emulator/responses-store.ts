/**
 * What the emulated OpenAI Responses API remembers: each stored response with the conversation the
 * model saw for it, scoped to the key that created it (OpenAI scopes responses to a project; the
 * emulator has one project per key), and every turn it answered, stored or not, so a test can
 * check what turn three "saw" of turns one and two.
 */

/** One input or output item as on the wire (`message`, `function_call`, `reasoning`, …), with its id. */
export type ResponseItem = Record<string, unknown>;

export interface StoredResponse {
  id: string;
  /** The bearer token that created it; any other key gets a 404 for it. */
  key: string;
  /** The Response object as answered (final state). */
  response: Record<string, unknown>;
  /** The conversation the model saw: earlier turns' input and output, then this request's input. */
  input: ResponseItem[];
}

/** One answered POST /responses. */
export interface ResponseTurn {
  responseId: string;
  key: string;
  previousResponseId: string | undefined;
  /** This request's own instructions (never inherited from a previous response, as OpenAI defines). */
  instructions: string | null;
  /** The expanded conversation: the previous response's input and output, then this request's input. */
  input: ResponseItem[];
  /** False when the request said `store: false`: nothing was kept. */
  stored: boolean;
}

export class ResponsesLedger {
  readonly turns: ResponseTurn[] = [];
  private readonly stored = new Map<string, StoredResponse>();

  /** A stored response, only for the key that created it. */
  find(id: string, key: string): StoredResponse | undefined {
    const entry = this.stored.get(id);
    return entry?.key === key ? entry : undefined;
  }

  save(entry: StoredResponse): void {
    this.stored.set(entry.id, entry);
  }

  /** True when the key's response existed and is gone now. */
  delete(id: string, key: string): boolean {
    if (this.find(id, key) === undefined) return false;
    this.stored.delete(id);
    return true;
  }

  /** The ids of every stored response, oldest first. */
  ids(): string[] {
    return [...this.stored.keys()];
  }

  /** What a follow-up with `previous_response_id: id` continues from: its input, then its output. */
  conversationAfter(entry: StoredResponse): ResponseItem[] {
    const output = Array.isArray(entry.response.output) ? (entry.response.output as ResponseItem[]) : [];
    return [...entry.input, ...output];
  }

  /** An item of any of the key's stored responses, by id: what an `item_reference` points at. */
  item(id: string, key: string): ResponseItem | undefined {
    for (const entry of [...this.stored.values()].reverse()) {
      if (entry.key !== key) continue;
      const found = this.conversationAfter(entry).find((item) => item.id === id);
      if (found !== undefined) return found;
    }
    return undefined;
  }

  clear(): void {
    this.turns.length = 0;
    this.stored.clear();
  }
}
