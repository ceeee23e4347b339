/**
 * The benchmark's built-in corpus: deterministic (seeded), mixed lengths like a real drop of
 * files: short queries, sentences, paragraphs and documents longer than 512 tokens. Pure.
 */

const WORDS =
  'the of and to in is that for it as was with be by on not he this are or his from at which but have an they you were her she there been one all we their has would when if so no will more what about up out them into can than other time some could only its new these two may first then do any like my now over such our man me even most made after also did many before must through back years where much your way well down should because each just those people how too little state good very make world still own see men work long get here between both life being under never day same another know while last might us great old year off come since against go came right used take three states himself few house use during without again place american around however home small found mrs thought went say part once general high upon school every does got united left number course war until always away something fact though water less public put think almost hand enough far took head yet government system better set told nothing night end why called didnt eyes find going look asked later knew point next program city business give group toward young days let room president side social given present several order national possible rather second face per among form important often things looked early white case john become large big need four within felt along children saw best church ever least power development thing light seemed family interest want members mind country area others done turned although open god service problem certain kind different thus began door help means sense whole matter perhaps itself york times law human line above name example action company hands local show whether five history gave today either act feet across taken past quite anything seen having death week experience body word half really field am car words already information tell together college shall money period held keep sure probably free seems real behind cannot miss political air question office making brought whose special major heard problems ago became federal moment study available known result street economic boy reason change position south board individual job areas society west close turn love community true court force full seem am policy'.split(
    ' ',
  );

/** mulberry32: small, fast, good enough for a reproducible corpus. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const CORPUS_MIX = [
  { kind: 'query', share: 0.3, words: [4, 10] },
  { kind: 'sentence', share: 0.35, words: [12, 30] },
  { kind: 'paragraph', share: 0.25, words: [60, 140] },
  { kind: 'document', share: 0.1, words: [450, 700] },
] as const;

function sentence(random: () => number, words: number): string {
  const out: string[] = [];
  for (let i = 0; i < words; i++) {
    let word = WORDS[Math.floor(random() * WORDS.length)];
    if (i === 0) word = word[0].toUpperCase() + word.slice(1);
    out.push(word);
    if (i > 0 && i < words - 1 && random() < 0.08) out[out.length - 1] += ',';
  }
  return `${out.join(' ')}.`;
}

/**
 * `size` texts, the same for the same `size` and `seed`, in a shuffled order of kinds.
 * @example builtInCorpus(300).length // 300
 */
export function builtInCorpus(size: number, seed = 20261125): string[] {
  const random = seeded(seed);
  const texts: string[] = [];
  for (let i = 0; i < size; i++) {
    const pick = random();
    let kind: (typeof CORPUS_MIX)[number] = CORPUS_MIX[0];
    let cumulative = 0;
    for (const entry of CORPUS_MIX) {
      cumulative += entry.share;
      if (cumulative >= pick) {
        kind = entry;
        break;
      }
    }
    const [min, max] = kind.words;
    let remaining = min + Math.floor(random() * (max - min + 1));
    const parts: string[] = [];
    while (remaining > 0) {
      const length = Math.min(remaining, 8 + Math.floor(random() * 14));
      parts.push(sentence(random, length));
      remaining -= length;
    }
    texts.push(parts.join(' '));
  }
  return texts;
}

/** `count` random unit vectors of `dimension` values (seeded, so every run writes the same index). Pure. */
export function seededUnitVectors(count: number, dimension: number, seed: number): Float32Array[] {
  const random = seeded(seed);
  return Array.from({ length: count }, () => {
    const vector = Float32Array.from({ length: dimension }, () => random() * 2 - 1);
    const norm = Math.hypot(...vector);
    return vector.map((value) => value / norm);
  });
}
