// Lays out the ticket graph with dagre (a layered layout made for DAGs): dependencies on
// the left, dependents to the right. Used by the webview and by the static HTML snapshot.
import dagre from '@dagrejs/dagre';
import type { GraphEdgeView, GraphNodeView } from './dashboardView';

export interface PlacedNode {
  id: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface PlacedEdge {
  from: string;
  to: string;
  points: { x: number; y: number }[];
}

export interface GraphLayout {
  width: number;
  height: number;
  nodes: Map<string, PlacedNode>;
  edges: PlacedEdge[];
}

export const NODE_WIDTH = 150;
export const NODE_HEIGHT = 34;

export function layoutGraph(nodes: readonly Pick<GraphNodeView, 'id'>[], edges: readonly Pick<GraphEdgeView, 'from' | 'to'>[]): GraphLayout {
  const g = new dagre.graphlib.Graph({ multigraph: false });
  // network-simplex ranks more compactly but costs ~3× longer-path's time at 500 tickets
  // (1.8 s vs 0.6 s in bench/dashboard.ts); large graphs take the faster ranker.
  const ranker = nodes.length > 150 ? 'longest-path' : 'network-simplex';
  g.setGraph({ rankdir: 'LR', nodesep: 12, ranksep: 40, marginx: 8, marginy: 8, ranker });
  g.setDefaultEdgeLabel(() => ({}));
  const ids = new Set<string>();
  for (const n of nodes) {
    ids.add(n.id);
    g.setNode(n.id, { width: NODE_WIDTH, height: NODE_HEIGHT });
  }
  for (const e of edges) if (ids.has(e.from) && ids.has(e.to)) g.setEdge(e.from, e.to);
  dagre.layout(g);
  const placed = new Map<string, PlacedNode>();
  for (const id of ids) {
    const n = g.node(id) as { x: number; y: number; width: number; height: number };
    placed.set(id, { id, x: n.x, y: n.y, width: n.width, height: n.height });
  }
  const out: PlacedEdge[] = [];
  for (const e of g.edges()) {
    const label = g.edge(e) as { points?: { x: number; y: number }[] };
    out.push({ from: e.v, to: e.w, points: label.points ?? [] });
  }
  const graph = g.graph() as { width?: number; height?: number };
  return { width: Math.ceil(graph.width ?? 0), height: Math.ceil(graph.height ?? 0), nodes: placed, edges: out };
}

/** "M x y L x y …" for an edge's points. */
export function edgePath(points: readonly { x: number; y: number }[]): string {
  return points.map((p, i) => `${i ? 'L' : 'M'}${p.x.toFixed(1)} ${p.y.toFixed(1)}`).join(' ');
}
