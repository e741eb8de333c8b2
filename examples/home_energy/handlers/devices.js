// Device handlers for the home_energy example. They stand in for a local device API: values are
// derived from the zone name so every run of the example is reproducible.

const ZONES = {
  living_room: { temperature: 23.4, humidity: 44, occupied: true, setpoint: 21 },
  bedroom: { temperature: 19.1, humidity: 51, occupied: false, setpoint: 18 },
};

export async function read_sensors({ zone }) {
  const known = ZONES[zone];
  if (!known) throw new Error(`no sensors in zone "${zone}"`);
  return { ...known };
}

export async function set_thermostat({ zone, setpoint }) {
  const previous = ZONES[zone]?.setpoint ?? setpoint;
  return { zone, setpoint: Math.round(setpoint * 10) / 10, previous };
}

export async function schedule_appliance({ appliance, start_hour, kwh }) {
  // Plugs refuse loads they cannot switch safely.
  return { appliance, start_hour, accepted: kwh <= 3.5 };
}
