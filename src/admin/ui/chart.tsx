import { useEffect, useRef } from "hono/jsx/dom";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export interface Series {
  label: string;
  color: string;
  values: number[];
}

const HEIGHT = 220;

/** Bars for a category axis (uPlot ships the path builder; it is optional only in its types). */
const bars = uPlot.paths.bars?.({ size: [0.6, 64] });

/**
 * One uPlot chart (drawn by uPlot on a canvas, sized to its container and resized with it).
 * The x axis is time (`times`, unix seconds: lines per series) or `categories` (one bar each).
 * The figure carries the numbers as text too: a caption, and a summary for screen readers.
 */
export function Chart(props: {
  id: string;
  title: string;
  summary: string;
  times?: number[];
  categories?: readonly string[];
  series: Series[];
  yValue?: (v: number) => string;
  /** The least top of the y axis (the data's maximum is used when larger). */
  yMin?: number;
}) {
  const box = useRef<HTMLDivElement>(null);
  const total = props.series.reduce((sum, s) => sum + s.values.reduce((a, b) => a + b, 0), 0);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const categories = props.categories ?? null;
    const xs = categories ? categories.map((_, i) => i) : (props.times ?? []);
    const yValue = props.yValue;
    const opts: uPlot.Options = {
      width: Math.max(280, el.clientWidth),
      height: HEIGHT,
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      scales: {
        x: categories ? { time: false, range: [-0.5, categories.length - 0.5] } : { time: true },
        y: { range: (_u, _min, max) => [0, Math.max(props.yMin ?? 1, max) * 1.1] },
      },
      axes: [
        // Category names are long next to their bars: slanted, with the room that takes.
        categories
          ? { values: (_u, splits) => splits.map((i) => categories[i] ?? ""), space: 20, gap: 4, rotate: -40, size: 80 }
          : { space: 60 },
        { values: yValue ? (_u, splits) => splits.map(yValue) : undefined, size: 60 },
      ],
      series: [
        { label: categories ? "state" : "hour" },
        ...props.series.map((s) => ({
          label: s.label,
          stroke: s.color,
          fill: categories ? s.color : `${s.color}22`,
          width: 2,
          paths: categories ? bars : undefined,
          points: { show: !categories },
          value: yValue ? (_u: uPlot, v: number | null) => (v === null ? "—" : yValue(v)) : undefined,
        })),
      ],
    };
    const plot = new uPlot(opts, [xs, ...props.series.map((s) => s.values)], el);
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(280, el.clientWidth), height: HEIGHT }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [props.times, props.categories, props.series]);
  return (
    <figure id={props.id} class="chart" data-total={String(total)}>
      <figcaption>{props.title}</figcaption>
      <div ref={box} class="chart-canvas" aria-hidden="true" />
      <p class="sr-only">{props.summary}</p>
    </figure>
  );
}
