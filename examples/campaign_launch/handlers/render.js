// Renders campaign copy to a small HTML email.

const THEMES = {
  modern: 'font-family:system-ui;max-width:560px;margin:auto',
  classic: 'font-family:Georgia,serif;max-width:600px;margin:auto',
};

function escape(text) {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export async function render({ body, subject, theme }) {
  const html = `<html><body style="${THEMES[theme]}"><h1>${escape(subject)}</h1><p>${escape(body)}</p></body></html>`;
  return { html, bytes: Buffer.byteLength(html) };
}
