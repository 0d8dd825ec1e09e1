// A uPlot time-series chart as a preact component: built once on mount, fed new data in place,
// resized with its box, destroyed on unmount.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

export interface ChartSeries {
  label: string;
  color: string;
  values: number[];
  /** Bars instead of a line (counts per bucket read better as bars). */
  bars?: boolean;
  /** Formats this series' values in the legend and on the y axis. */
  format?: (value: number) => string;
}

interface Props {
  title: string;
  /** Bucket starts, epoch seconds. */
  times: number[];
  series: ChartSeries[];
  height?: number;
  testId?: string;
}

function options(props: Props, width: number): uPlot.Options {
  // A second bar series (errors of the requests) is drawn narrower over the first.
  let barIndex = 0;
  const barsFor = () => uPlot.paths.bars?.({ size: barIndex++ === 0 ? [0.7, 40] : [0.35, 20] });
  const format = props.series[0]?.format ?? ((v: number) => String(v));
  return {
    title: props.title,
    width,
    height: props.height ?? 220,
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true } },
    axes: [
      { stroke: '#555', grid: { stroke: '#eee' } },
      {
        stroke: '#555',
        grid: { stroke: '#eee' },
        size: 80,
        values: (_u, splits) => splits.map((v) => (v === null ? '' : format(v))),
      },
    ],
    series: [
      {},
      ...props.series.map((s) => ({
        label: s.label,
        stroke: s.color,
        fill: s.bars ? `${s.color}99` : `${s.color}22`,
        width: s.bars ? 0 : 2,
        paths: s.bars ? barsFor() : undefined,
        points: { show: false },
        value: (_u: uPlot, v: number | null) => (v === null ? '–' : (s.format ?? format)(v)),
      })),
    ],
  };
}

export function Chart(props: Props) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const data = [props.times, ...props.series.map((s) => s.values)] as uPlot.AlignedData;
  const shape = props.series.map((s) => s.label).join('|');

  useEffect(() => {
    const element = box.current;
    if (element === null) return;
    plot.current = new uPlot(options(props, element.clientWidth || 600), data, element);
    const observer = new ResizeObserver(() => {
      plot.current?.setSize({ width: element.clientWidth, height: props.height ?? 220 });
    });
    observer.observe(element);
    return () => {
      observer.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
    // Rebuilt only when the series change; new data goes through setData below.
  }, [shape, props.title]);

  useEffect(() => {
    plot.current?.setData(data);
  });

  return <div class="chart" ref={box} data-testid={props.testId} data-points={props.times.length} />;
}
