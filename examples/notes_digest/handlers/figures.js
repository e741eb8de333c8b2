// Pulls the `name: number` figures out of a note's text (the notes are written by people; the
// figures the digest sums are the lines `sales: N` and `refunds: N`).
export async function figures({ text }) {
  const read = (name) => {
    const m = new RegExp(`^\\s*-?\\s*${name}:\\s*(-?\\d+(?:\\.\\d+)?)\\s*$`, 'mi').exec(text);
    if (!m) throw new Error(`the note has no "${name}:" line`);
    return Number(m[1]);
  };
  return { sales: read('sales'), refunds: read('refunds') };
}
