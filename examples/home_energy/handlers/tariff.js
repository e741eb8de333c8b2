// Day-ahead tariff lookup. A real handler would call the market operator's public API; this one
// returns a fixed curve per bidding zone so the example needs no network.

const CURVES = {
  'DE-LU': [0.21, 0.12, 0.09, 0.1, 0.14, 0.24, 0.33, 0.41, 0.38, 0.29, 0.22, 0.2],
  'FR': [0.18, 0.11, 0.1, 0.12, 0.15, 0.2, 0.27, 0.31, 0.3, 0.24, 0.19, 0.17],
};

export async function forecast_tariff({ region, hours }) {
  const curve = CURVES[region];
  if (!curve) throw new Error(`unknown bidding zone "${region}"`);
  const window = curve.slice(0, Math.max(1, Math.min(hours, curve.length)));
  const cheapest = Math.min(...window);
  return {
    cheap_hour: window.indexOf(cheapest),
    peak_price: Math.max(...window),
    offpeak_price: cheapest,
  };
}
