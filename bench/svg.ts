/**
 * One SVG per scenario: a panel per figure, two bars (ours, skeleton) with their values. Hand-written
 * (a dozen rectangles and labels need no charting library).
 */
export interface Panel {
  title: string;
  unit: string;
  ours: number | null;
  skeleton: number | null;
  /** Shown under the panel, e.g. "goal ≤ 1.15×" or the ratio. */
  note?: string;
}

const W = 220;
const H = 230;
const BAR_TOP = 50;
const BAR_H = 120;
const COLORS = { ours: '#3b6fd8', skeleton: '#9aa3ad' };

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function fmt(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return 'n/a';
  return v >= 100 ? String(Math.round(v)) : String(Math.round(v * 100) / 100);
}

export function chart(title: string, subtitle: string, panels: Panel[]): string {
  const width = Math.max(1, panels.length) * W + 20;
  const height = H + 45;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
  );
  parts.push(`<rect width="100%" height="100%" fill="#fff"/>`);
  parts.push(`<text x="10" y="22" font-size="16" font-weight="bold">${esc(title)}</text>`);
  parts.push(`<text x="10" y="40" fill="#555">${esc(subtitle)}</text>`);
  panels.forEach((p, i) => {
    const x0 = 10 + i * W;
    const y0 = 50;
    const max = Math.max(p.ours ?? 0, p.skeleton ?? 0) || 1;
    parts.push(`<text x="${x0 + W / 2}" y="${y0 + 18}" text-anchor="middle" font-weight="bold">${esc(p.title)}</text>`);
    parts.push(`<text x="${x0 + W / 2}" y="${y0 + 34}" text-anchor="middle" fill="#555">${esc(p.unit)}</text>`);
    const base = y0 + BAR_TOP + BAR_H;
    (['ours', 'skeleton'] as const).forEach((k, j) => {
      const v = p[k];
      const h = v && Number.isFinite(v) ? Math.max(1, (v / max) * BAR_H) : 0;
      const bx = x0 + 40 + j * 75;
      parts.push(`<rect x="${bx}" y="${base - h}" width="55" height="${h}" fill="${COLORS[k]}"/>`);
      parts.push(`<text x="${bx + 27.5}" y="${base - h - 4}" text-anchor="middle">${fmt(v)}</text>`);
      parts.push(`<text x="${bx + 27.5}" y="${base + 15}" text-anchor="middle" fill="#333">${k}</text>`);
    });
    parts.push(`<line x1="${x0 + 30}" y1="${base}" x2="${x0 + W - 30}" y2="${base}" stroke="#999"/>`);
    if (p.note)
      parts.push(`<text x="${x0 + W / 2}" y="${base + 34}" text-anchor="middle" fill="#555">${esc(p.note)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
