import uPlot from './vendor/uplot/uPlot.esm.js';

/** Delivery speed: delivered, deferred and bounced per minute (uPlot wants seconds on the x axis). */
export function speedChart(container, width = 720) {
  const opts = {
    title: 'Delivery speed (per minute)',
    width,
    height: 240,
    scales: { x: { time: true } },
    series: [
      {},
      { label: 'Delivered', stroke: '#1b7f3b', width: 2 },
      { label: 'Deferred', stroke: '#b26b00', width: 2, dash: [6, 4] },
      { label: 'Bounced', stroke: '#b3261e', width: 2, dash: [2, 3] },
    ],
    axes: [{}, { label: 'recipients / min' }],
  };
  const plot = new uPlot(opts, toData([]), container);
  return {
    update: (series) => plot.setData(toData(series)),
    destroy: () => plot.destroy(),
  };
}

function toData(series) {
  return [
    series.map((m) => m.minute / 1000),
    series.map((m) => m.delivered),
    series.map((m) => m.deferred),
    series.map((m) => m.bounced + m.expired),
  ];
}
