// The setpoint planner: a few explainable rules rather than a model, so results are reproducible.

export async function plan_setpoints({ reading, peak_price, comfort_target, away_setback }) {
  const target = reading.occupied ? comfort_target : comfort_target - away_setback;
  const expensive = peak_price >= 0.3;
  const setpoint = Math.min(26, Math.max(16, expensive ? target + 0.5 : target));
  // Pre-cooling pays off when the room is already warm and the peak is expensive.
  const precool = expensive && reading.temperature > setpoint + 1;
  const saving_kwh = Math.round(Math.abs(reading.setpoint - setpoint) * 0.8 * 10) / 10;
  const reason = reading.occupied
    ? `occupied; ${expensive ? 'peak price high, allowing +0.5 degrees' : 'normal prices'}`
    : `empty room; setting back by ${away_setback} degrees`;
  return { setpoint, precool, saving_kwh, reason };
}
