import type http from 'node:http';
import type { Socket } from 'node:net';

/**
 * Caps the open client connections at `max`. Past the cap, the connection idle the longest (one that has
 * not finished sending a request's headers, or a keep-alive connection between requests) is closed to
 * make room, so a crowd of idle or half-sent connections cannot lock out a client that has something to
 * say. Connections with a request in progress are never closed for this; when every one is busy, the
 * newcomer is refused. Header and request timeouts (set on the server) bound how long any of them lasts.
 */
export function capConnections(server: http.Server, max: number): void {
	/** Sockets without a request in progress, the longest idle first (a Set keeps insertion order). */
	const idle = new Set<Socket>();
	let open = 0;
	server.on('connection', (socket: Socket) => {
		open += 1;
		idle.add(socket);
		socket.once('close', () => {
			open -= 1;
			idle.delete(socket);
		});
		if (open <= max) return;
		const oldest = idle.values().next().value;
		const victim = oldest !== undefined && oldest !== socket ? oldest : socket;
		idle.delete(victim);
		victim.destroy();
	});
	server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
		const socket = req.socket;
		idle.delete(socket);
		res.once('close', () => {
			// Between keep-alive requests the connection is idle again, now the most recently active.
			if (!socket.destroyed) idle.add(socket);
		});
	});
}
