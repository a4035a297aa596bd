/* Leaflet positions every marker with a 3D transform when the browser has them, which makes
 * each marker a compositing layer of its own: with hundreds of centres, every frame then
 * pays for hundreds of layers. 2D transforms position them as well (panning and zooming stay
 * smooth), so the map asks Leaflet for those. Imported before leaflet (Leaflet reads the flag
 * when it loads). */
(window as unknown as { L_DISABLE_3D?: boolean }).L_DISABLE_3D = true;
export {};
