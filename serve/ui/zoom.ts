/**
 * Zoom and pan for a large SVG inside a frame: wheel or +/− to zoom, drag or arrow keys to pan,
 * 0 to fit. Works on the SVG's viewBox, so text stays crisp at any zoom.
 */
export function zoomable(frame: HTMLElement, svg: SVGSVGElement): { fit(): void; zoom(f: number): void } {
  const full = svg.viewBox.baseVal;
  const fw = full.width || 1;
  const fh = full.height || 1;
  let view = { x: 0, y: 0, w: fw, h: fh };
  svg.removeAttribute('width');
  svg.removeAttribute('height');
  const apply = () => svg.setAttribute('viewBox', `${view.x} ${view.y} ${view.w} ${view.h}`);
  const fit = () => {
    // Readable first: a big graph opens at a zoom where boxes are legible, at its start.
    // A small graph keeps its natural size (never blown up); a big one opens at a legible zoom.
    const frameW = frame.clientWidth || 800;
    const frameH = frame.clientHeight || 420;
    const w = fw > frameW * 1.6 ? frameW * 1.2 : Math.max(fw, frameW);
    view = { x: 0, y: 0, w, h: (w * frameH) / frameW };
    if (fw <= frameW * 1.6 && fh > view.h) {
      view.h = fh;
      view.w = (fh * frameW) / frameH;
    }
    apply();
  };
  const zoom = (f: number, cx = view.x + view.w / 2, cy = view.y + view.h / 2) => {
    const w = Math.min(Math.max(view.w * f, 60), fw * 4);
    const k = w / view.w;
    view = { x: cx - (cx - view.x) * k, y: cy - (cy - view.y) * k, w, h: view.h * k };
    apply();
  };
  const pan = (dx: number, dy: number) => {
    view = { ...view, x: view.x + dx, y: view.y + dy };
    apply();
  };
  frame.addEventListener(
    'wheel',
    (e) => {
      e.preventDefault();
      const r = svg.getBoundingClientRect();
      const cx = view.x + ((e.clientX - r.left) / r.width) * view.w;
      const cy = view.y + ((e.clientY - r.top) / r.height) * view.h;
      zoom(e.deltaY > 0 ? 1.15 : 1 / 1.15, cx, cy);
    },
    { passive: false },
  );
  // The pointer is captured only once it moves: captured at once, a plain click would land on the
  // frame instead of the step under it, and selecting a step would never happen.
  let drag: { x: number; y: number; pointer: number; captured: boolean } | null = null;
  frame.addEventListener('pointerdown', (e) => {
    drag = { x: e.clientX, y: e.clientY, pointer: e.pointerId, captured: false };
  });
  frame.addEventListener('pointermove', (e) => {
    if (!drag) return;
    if (!drag.captured) {
      if (Math.hypot(drag.x - e.clientX, drag.y - e.clientY) < 4) return;
      frame.setPointerCapture(drag.pointer);
      drag.captured = true;
    }
    const r = svg.getBoundingClientRect();
    pan(((drag.x - e.clientX) / r.width) * view.w, ((drag.y - e.clientY) / r.height) * view.h);
    drag = { ...drag, x: e.clientX, y: e.clientY };
  });
  frame.addEventListener('pointerup', () => (drag = null));
  frame.addEventListener('pointercancel', () => (drag = null));
  frame.addEventListener('keydown', (e) => {
    const step = view.w / 10;
    const keys: Record<string, () => void> = {
      '+': () => zoom(1 / 1.25),
      '=': () => zoom(1 / 1.25),
      '-': () => zoom(1.25),
      '0': fit,
      ArrowLeft: () => pan(-step, 0),
      ArrowRight: () => pan(step, 0),
      ArrowUp: () => pan(0, -step),
      ArrowDown: () => pan(0, step),
    };
    const k = keys[e.key];
    if (k && (e.target === frame || !(e.target as Element).closest('.node'))) {
      e.preventDefault();
      k();
    }
  });
  fit();
  return { fit, zoom: (f) => zoom(f) };
}
