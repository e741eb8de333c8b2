// Media handlers for the movie_night example. No network: the "recommender" scores titles with a
// fixed table, so the example gives the same answer every time.

const CATALOGUE = {
  'Paddington 2': { runtime_min: 103, moods: ['light-hearted', 'family'] },
  'Amelie': { runtime_min: 122, moods: ['light-hearted', 'romantic'] },
  'Arrival': { runtime_min: 116, moods: ['thoughtful'] },
  'Mad Max: Fury Road': { runtime_min: 120, moods: ['thrilling'] },
};

function describe(title) {
  return CATALOGUE[title] ?? { runtime_min: 100, moods: [] };
}

export async function recommend_movie({ watchlist, mood, viewers }) {
  if (watchlist.length === 0) throw new Error('the watch list is empty');
  const scored = watchlist.map((title, i) => {
    const info = describe(title);
    const fitsMood = info.moods.includes(mood) ? 2 : 0;
    const short = viewers > 3 && info.runtime_min < 110 ? 1 : 0;
    return { title, score: fitsMood + short - i * 0.01, info };
  });
  scored.sort((a, b) => b.score - a.score);
  const best = scored[0];
  return {
    title: best.title,
    runtime_min: best.info.runtime_min,
    why: best.info.moods.includes(mood) ? `matches a ${mood} mood` : 'top of the watch list',
  };
}

export async function first_on_watchlist({ watchlist }) {
  if (watchlist.length === 0) throw new Error('the watch list is empty');
  return { title: watchlist[0], runtime_min: describe(watchlist[0]).runtime_min, why: 'offline pick' };
}

export async function start_playback({ title, device }) {
  const session = `${device}-${title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
  return { session, title, device };
}

export async function order_snacks({ guests, budget }) {
  const items = ['popcorn', ...(guests > 2 ? ['nachos'] : []), ...(guests > 4 ? ['ice cream'] : [])];
  const total = Math.min(budget, 3.5 * items.length);
  return { order: `snacks-${guests}-${items.length}`, items, total };
}
