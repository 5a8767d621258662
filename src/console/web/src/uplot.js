// uPlot is loaded on demand (only the Overview page draws charts): it is half of the JS.
export { default } from 'uplot';
