// A QR code drawn as SVG (one path of unit squares, colours from the stylesheet), so that it needs
// neither an inline image nor inline styles under the server's CSP. Nothing is drawn when the text is
// too long for a QR code.
import { useMemo } from "react";
import { encodeQr } from "../qr-code.ts";

// The light margin the standard asks for around the symbol, in modules.
const quietZone = 4;

export function QrCode(props: { text: string; label: string }) {
  const drawn = useMemo(() => {
    const matrix = encodeQr(props.text);
    if (!matrix) return undefined;
    const squares: string[] = [];
    matrix.dark.forEach((row, y) => row.forEach((dark, x) => {
      if (dark) squares.push(`M${x + quietZone} ${y + quietZone}h1v1h-1z`);
    }));
    return { extent: matrix.size + quietZone * 2, path: squares.join("") };
  }, [props.text]);
  if (!drawn) return null;
  return (
    <svg className="qr-code" role="img" aria-label={props.label} viewBox={`0 0 ${drawn.extent} ${drawn.extent}`} shapeRendering="crispEdges"
      xmlns="http://www.w3.org/2000/svg">
      <rect className="qr-light" width={drawn.extent} height={drawn.extent} />
      <path className="qr-dark" d={drawn.path} />
    </svg>
  );
}
