// Handlers of the WCP examples: `work` echoes a value after `ms` milliseconds; `fail` always fails.
export async function work(input) {
  await new Promise((resolve) => setTimeout(resolve, input.ms ?? 0));
  return { value: input.value };
}

export function fail(input) {
  throw new Error(`failed: ${input.value}`);
}
