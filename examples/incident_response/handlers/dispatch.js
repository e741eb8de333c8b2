// Dispatch-side handlers for the incident_response example. Call signs and ETAs are derived from
// the unit type so runs are reproducible.

const STATIONS = {
  engine: { call_sign: 'E-12', eta_min: 4 },
  ladder: { call_sign: 'L-3', eta_min: 6 },
  hazmat: { call_sign: 'HM-1', eta_min: 9 },
  ambulance: { call_sign: 'M-21', eta_min: 5 },
  police: { call_sign: 'P-40', eta_min: 3 },
  utility_crew: { call_sign: 'GAS-2', eta_min: 15 },
  rescue_boat: { call_sign: 'B-1', eta_min: 12 },
};

export async function dispatch_unit({ unit }) {
  const station = STATIONS[unit];
  if (!station) throw new Error(`no station has a unit of type "${unit}"`);
  return { unit, ...station };
}

export async function launch_drone({ lat, lon, incident_id }) {
  if (Math.abs(lat) > 90 || Math.abs(lon) > 180) throw new Error('coordinates out of range');
  const drone_id = `drone-${incident_id}`;
  return { drone_id, feed_url: `rtsp://drones.city.example/${drone_id}`, eta_s: 90 };
}

export async function public_broadcast({ area, message }) {
  if (message.length > 280) throw new Error('broadcast text is longer than 280 characters');
  return { delivered_to: 1200 + area.length };
}

export async function open_case({ incident_id, units }) {
  return { case_id: `case-${incident_id}-${units}` };
}
