// Triage and feed analysis for the incident_response example: fixed rules, no model, no network.

const UNITS = {
  gas_leak: ['engine', 'hazmat', 'utility_crew'],
  fire: ['engine', 'ladder', 'ambulance'],
  flood: ['rescue_boat', 'ambulance'],
};

export async function triage({ kind, description, severity }) {
  const mentionsPeople = /school|people|children|crowd|residents/i.test(description);
  const level = Math.min(5, severity + (mentionsPeople ? 1 : 0));
  const units = level >= 4 ? [...UNITS[kind], 'police'] : UNITS[kind];
  const evacuate = level >= 4;
  const advice = evacuate
    ? 'Evacuate within 200 m, no open flames, do not use light switches'
    : 'Keep clear of the area and keep windows closed';
  return { severity: level, units, evacuate, advice, confidence: mentionsPeople ? 0.9 : 0.8 };
}

export async function analyse_feed({ feed_url, kind }) {
  const plume = kind === 'gas_leak' || kind === 'fire';
  return {
    people_in_zone: 0,
    plume_visible: plume,
    summary: `${plume ? 'plume visible' : 'no plume'}; nobody inside the cordon (${feed_url})`,
  };
}
