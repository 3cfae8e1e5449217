// ABOUTME: Builds the stored JSON texts of tool_call and tool_result ledger rows (store.md §5).
// ABOUTME: Keys in fixed order, standard escaping; the result is always valid JSON.

/** `{"name":<name>,"id":<id>,"input":<input>}` with `input` spliced verbatim when valid JSON, `{}` when empty. */
export function toolCallText(name: string, id: string, inputJson: string): string {
  return `{"name":${JSON.stringify(name)},"id":${JSON.stringify(id)},"input":${inputValue(inputJson)}}`;
}

/** `{"id":<id>,"output":<output>,"is_error":<bool>}`. */
export function toolResultText(id: string, output: string, isError: boolean): string {
  return `{"id":${JSON.stringify(id)},"output":${JSON.stringify(output)},"is_error":${isError ? "true" : "false"}}`;
}

function inputValue(inputJson: string): string {
  if (inputJson === "") return "{}";
  try {
    JSON.parse(inputJson);
  } catch {
    return JSON.stringify(inputJson);
  }
  return inputJson;
}
