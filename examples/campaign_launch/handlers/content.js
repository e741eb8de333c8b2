// Content handlers for the campaign_launch example. Deterministic templates instead of a model.

const PRODUCTS = {
  'prod-aurora': { name: 'Aurora Desk Lamp', pitch: 'warm, even light that follows your day' },
  'prod-tundra': { name: 'Tundra Cooler', pitch: 'ice that lasts a long weekend' },
};

const POSITIVE = ['great', 'love', 'delight', 'warm', 'bright', 'easy', 'welcome'];
const NEGATIVE = ['problem', 'worst', 'fail', 'broken', 'never', 'angry', 'disappoint'];

function words(text) {
  return text.toLowerCase().match(/[a-z']+/g) ?? [];
}

export async function generate({ product_id, audience, template }) {
  const product = PRODUCTS[product_id];
  if (!product) throw new Error(`unknown product "${product_id}"`);
  const opener = audience === 'enterprise' ? 'Your teams deserve' : 'You deserve';
  const body = `${opener} ${product.pitch}. We would love to show you the ${product.name}: easy to set up and a delight to use. Reply to this email to book a demo.`;
  return {
    id: `${template}-${product_id}-${audience}`,
    subject: `Meet the ${product.name}`,
    body,
    word_count: words(body).length,
  };
}

export async function rewrite({ body, tone }) {
  const softened = `${tone === 'warmer' ? 'We hope you are well! ' : ''}${body.replace(/problem/gi, 'question')}`;
  return { body: softened, word_count: words(softened).length };
}

export async function sentiment({ text }) {
  const w = words(text);
  const pos = w.filter((x) => POSITIVE.includes(x)).length;
  const neg = w.filter((x) => NEGATIVE.some((n) => x.startsWith(n))).length;
  const score = w.length === 0 ? 0 : (pos - neg) / Math.max(1, pos + neg);
  const label = score > 0.2 ? 'positive' : score < -0.2 ? 'negative' : 'neutral';
  return { label, score };
}
