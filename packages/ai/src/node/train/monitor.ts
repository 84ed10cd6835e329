/// <reference types="node" />
/**
 * Training monitoring on the Node side:
 *  - `TensorBoardWriter`: `<run>/tb/events.out.tfevents.<time>.<host>` with scalar summaries
 *    (open the folder with `tensorboard --logdir <run>/tb`);
 *  - `startMonitorServer`: a tiny HTTP server on 127.0.0.1 (random port) serving one page with
 *    the loss and validation-Dice curves, updated live through Server-Sent Events. No external
 *    assets; the page works offline.
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { TfEventsEncoder, tfEventsFileName } from '../../train/tfevents.js';

export class TensorBoardWriter {
  readonly path: string;
  private readonly enc = new TfEventsEncoder();

  constructor(runDir: string, now = Date.now() / 1000) {
    const dir = join(runDir, 'tb');
    mkdirSync(dir, { recursive: true });
    this.path = join(dir, tfEventsFileName(now, hostname()));
    writeFileSync(this.path, this.enc.start(now));
  }

  scalars(step: number, values: Record<string, number>, wallTime = Date.now() / 1000): void {
    const list = Object.entries(values)
      .filter(([, v]) => Number.isFinite(v))
      .map(([tag, value]) => ({ tag, value }));
    if (list.length > 0) appendFileSync(this.path, this.enc.scalars(wallTime, step, list));
  }
}

export interface MonitorPoint {
  readonly epoch: number;
  readonly trainLoss: number;
  readonly valLoss?: number | undefined;
  readonly meanValDice?: number | undefined;
  readonly valDice?: Readonly<Record<string, number>> | undefined;
}

export interface MonitorServer {
  readonly url: string;
  /** Sends an epoch point to every open page (and keeps it for pages opened later). */
  epoch(p: MonitorPoint): void;
  /** Sends a status line (progress, warnings, done). */
  status(text: string): void;
  close(): Promise<void>;
}

/** Starts the live page; resolves once it listens. */
export async function startMonitorServer(title = 'slice2solid training'): Promise<MonitorServer> {
  const points: MonitorPoint[] = [];
  let lastStatus = '';
  const clients = new Set<ServerResponse>();
  const send = (event: string, data: unknown) => {
    const msg = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const c of clients) c.write(msg);
  };
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    if (url === '/' || url.startsWith('/?')) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(monitorPage(title));
    } else if (url === '/data') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify({ points, status: lastStatus }));
    } else if (url === '/events') {
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-store',
        connection: 'keep-alive',
      });
      res.write(`event: init\ndata: ${JSON.stringify({ points, status: lastStatus })}\n\n`);
      clients.add(res);
      req.on('close', () => clients.delete(res));
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
    }
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}/`,
    epoch(p) {
      points.push(p);
      send('epoch', p);
    },
    status(text) {
      lastStatus = text;
      send('status', text);
    },
    close: () =>
      new Promise<void>((ok) => {
        for (const c of clients) c.end();
        clients.clear();
        server.close(() => ok());
        server.closeAllConnections?.();
      }),
  };
}

/** The page: two SVG charts drawn by a few lines of inline script from /events. */
export function monitorPage(title: string): string {
  const safe = title.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${safe}</title>
<style>body{font-family:system-ui,sans-serif;margin:20px;color:#222}svg{border:1px solid #ddd;background:#fff;margin:8px 8px 0 0}#status{color:#555;white-space:pre-wrap}.legend span{margin-right:12px}</style>
</head><body>
<h1>${safe}</h1>
<p id="status">waiting for the first epoch...</p>
<div><svg id="loss" width="560" height="300"></svg><svg id="dice" width="560" height="300"></svg></div>
<div class="legend" id="legend"></div>
<script>
const COLORS=['#1f77b4','#d62728','#2ca02c','#ff7f0e','#9467bd','#8c564b','#e377c2','#17becf'];
let points=[];
function chart(id,title,series,yMin,yMax){
  const svg=document.getElementById(id),W=560,H=300,L=50,R=10,T=24,B=30;
  const xs=points.map(p=>p.epoch);const x0=Math.min(...xs,0),x1=Math.max(...xs,1);
  let lo=yMin,hi=yMax;const all=series.flatMap(s=>s.values.filter(v=>Number.isFinite(v)));
  if(lo===undefined)lo=Math.min(...all,0);if(hi===undefined)hi=Math.max(...all,1e-6);if(hi<=lo)hi=lo+1;
  const X=v=>L+(v-x0)/(x1-x0||1)*(W-L-R),Y=v=>H-B-(v-lo)/(hi-lo)*(H-T-B);
  let s='<text x="'+L+'" y="16" font-size="13" font-weight="bold">'+title+'</text>';
  for(let k=0;k<=4;k++){const v=lo+(hi-lo)*k/4;s+='<line x1="'+L+'" x2="'+(W-R)+'" y1="'+Y(v)+'" y2="'+Y(v)+'" stroke="#eee"/><text x="'+(L-4)+'" y="'+(Y(v)+4)+'" font-size="10" text-anchor="end">'+v.toPrecision(3)+'</text>';}
  s+='<text x="'+(W/2)+'" y="'+(H-6)+'" font-size="11" text-anchor="middle">epoch</text>';
  series.forEach((se,n)=>{const pts=points.map((p,i)=>[p.epoch,se.values[i]]).filter(q=>Number.isFinite(q[1]));
    if(pts.length)s+='<polyline fill="none" stroke-width="2" stroke="'+COLORS[n%COLORS.length]+'" points="'+pts.map(q=>X(q[0]).toFixed(1)+','+Y(q[1]).toFixed(1)).join(' ')+'"><title>'+se.name+'</title></polyline>';});
  svg.innerHTML=s;
  return series.map((se,n)=>'<span style="color:'+COLORS[n%COLORS.length]+'">&#9632; '+se.name+'</span>').join('');
}
function draw(){
  const a=chart('loss','Loss',[{name:'train loss',values:points.map(p=>p.trainLoss)},{name:'validation loss',values:points.map(p=>p.valLoss)}]);
  const names=[...new Set(points.flatMap(p=>Object.keys(p.valDice||{})))];
  const b=chart('dice','Validation Dice',[{name:'mean Dice',values:points.map(p=>p.meanValDice)}].concat(names.map(nm=>({name:nm,values:points.map(p=>(p.valDice||{})[nm])}))),0,1);
  document.getElementById('legend').innerHTML=a+' '+b;
}
function status(t){document.getElementById('status').textContent=t;}
if(window.EventSource){const es=new EventSource('/events');
  es.addEventListener('init',e=>{const d=JSON.parse(e.data);points=d.points;if(d.status)status(d.status);draw();});
  es.addEventListener('epoch',e=>{points.push(JSON.parse(e.data));draw();});
  es.addEventListener('status',e=>status(JSON.parse(e.data)));
}else setInterval(()=>fetch('/data').then(r=>r.json()).then(d=>{points=d.points;status(d.status);draw();}),2000);
</script>
</body></html>
`;
}
