// Room control for the movie_night example. Deterministic stand-ins for a smart-home hub API.

export async function set_lights({ room, level, warmth_kelvin }) {
  const scene = level <= 0.2 ? 'movie' : level <= 0.6 ? 'evening' : 'bright';
  return { room, level, scene: `${scene}@${warmth_kelvin}K` };
}

export async function close_blinds({ room, position }) {
  return { room, position: Math.min(1, Math.max(0, position)) };
}

export async function set_climate({ room, temperature, fan }) {
  return { room, temperature, fan };
}
