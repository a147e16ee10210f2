// The agent scenario of cmd/capd/e2e_test.go, run through the official
// TypeScript MCP SDK client (@modelcontextprotocol/sdk) over streamable HTTP.
//
// Inputs come from the environment (cmd/capd/tsclient_test.go sets them):
//   CAPD_URL          the MCP endpoint, e.g. http://127.0.0.1:PORT/mcp
//   CAPD_KEY_FULL_A   a key with every scope on tenant A
//   CAPD_KEY_READ_A   a key with projects.read only on tenant A
//   CAPD_KEY_FULL_B   a key with every scope on tenant B
//   CAPD_PROJECT_A    a project id in tenant A
//
// Run: node agent.mjs (or node --test agent.mjs). A failure exits non-zero.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

function env(name) {
    const v = process.env[name];
    if (!v) {
        throw new Error(`environment variable ${name} is not set (see the header of ${import.meta.url})`);
    }
    return v;
}

const URL_ = env('CAPD_URL');
const KEY_FULL_A = env('CAPD_KEY_FULL_A');
const KEY_READ_A = env('CAPD_KEY_READ_A');
const KEY_FULL_B = env('CAPD_KEY_FULL_B');
const PROJECT_A = env('CAPD_PROJECT_A');

// The tool lists come from the server's registry (the Go test passes them),
// so adding a capability does not need an edit here.
const ALL_TOOLS = env('CAPD_TOOLS').split(',');
const READ_TOOLS = env('CAPD_READ_TOOLS').split(',');
const WRITE_TOOLS = ALL_TOOLS.filter((n) => !READ_TOOLS.includes(n));
const MISSING_PROJECT = 'prj_00000000000000000000000000000000';
const MISSING_TASK = 'tsk_00000000000000000000000000000000';

const clients = [];

// connect returns an initialized SDK client; key undefined sends no
// Authorization header.
async function connect(key) {
    const headers = key ? { Authorization: `Bearer ${key}` } : {};
    const client = new Client({ name: 'capd-e2e-ts', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(URL_), { requestInit: { headers } });
    await client.connect(transport);
    clients.push(client);
    return client;
}

// connectListed connects and lists tools, so the SDK caches (and compiles)
// every tool's outputSchema and validates structuredContent on each call.
async function connectListed(key) {
    const client = await connect(key);
    await client.listTools();
    return client;
}

// payload is a result's JSON object: structuredContent when present, else
// the JSON in the last text content block.
function payload(res) {
    if (res.structuredContent !== undefined && res.structuredContent !== null) {
        return res.structuredContent;
    }
    assert.ok(Array.isArray(res.content) && res.content.length > 0, `no content in ${JSON.stringify(res)}`);
    const last = res.content[res.content.length - 1];
    assert.equal(last.type, 'text', `last content block is not text: ${JSON.stringify(res)}`);
    let out;
    try {
        out = JSON.parse(last.text);
    } catch (e) {
        assert.fail(`last text block is not JSON: ${last.text}`);
    }
    assert.equal(typeof out, 'object');
    return out;
}

async function call(client, name, args) {
    const res = await client.callTool({ name, arguments: args });
    return { res, out: payload(res) };
}

async function ok(client, name, args) {
    const { res, out } = await call(client, name, args);
    assert.ok(!res.isError, `${name} ${JSON.stringify(args)} failed: ${JSON.stringify(out)}`);
    assert.ok(res.structuredContent, `${name} returned no structuredContent`);
    return out;
}

async function rejected(client, name, args) {
    const { res, out } = await call(client, name, args);
    assert.equal(res.isError, true, `${name} ${JSON.stringify(args)} should fail, got ${JSON.stringify(out)}`);
    assert.equal(out.ok, false, JSON.stringify(out));
    return out;
}

function issuePaths(out) {
    return (out.issues ?? []).map((i) => i.path);
}

// countTasks counts every task of the client's tenant through list_tasks.
async function countTasks(client) {
    let n = 0;
    const args = { limit: 100 };
    for (;;) {
        const out = await ok(client, 'projects.list_tasks', args);
        assert.ok(Array.isArray(out.items), JSON.stringify(out));
        n += out.items.length;
        if (!out.next_cursor) {
            return n;
        }
        args.cursor = out.next_cursor;
    }
}

describe('capd through @modelcontextprotocol/sdk over streamable HTTP', () => {
    let a;
    let taskID;

    before(async () => {
        a = await connect(KEY_FULL_A);
    });

    after(async () => {
        await Promise.allSettled(clients.map((c) => c.close()));
    });

    it('lists every tool with titles, annotations, version and output schemas', async () => {
        const { tools } = await a.listTools();
        assert.deepEqual(tools.map((t) => t.name), ALL_TOOLS, 'every tool, in name order');
        for (const tool of tools) {
            assert.ok(tool.title, `${tool.name}: title`);
            assert.ok(tool.description, `${tool.name}: description`);
            assert.ok(tool.annotations, `${tool.name}: annotations`);
            for (const hint of ['readOnlyHint', 'destructiveHint', 'idempotentHint', 'openWorldHint']) {
                assert.equal(typeof tool.annotations[hint], 'boolean', `${tool.name}: annotations.${hint}`);
            }
            assert.match(tool._meta?.['capd/version'] ?? '', /^\d+\.\d+\.\d+/, `${tool.name}: _meta capd/version`);
            assert.equal(tool.inputSchema?.type, 'object', `${tool.name}: inputSchema`);
            assert.equal(tool.outputSchema?.type, 'object', `${tool.name}: outputSchema`);
            // listTools compiled every outputSchema with Ajv (it throws if one
            // does not compile); the validator must be cached for each tool.
            assert.equal(typeof a.getToolOutputValidator(tool.name), 'function', `${tool.name}: SDK output validator`);
        }
        const readOnly = tools.filter((t) => t.annotations.readOnlyHint).map((t) => t.name);
        assert.deepEqual(readOnly, READ_TOOLS, 'read tools are the readOnlyHint tools');
    });

    it('creates a project and a task and moves the task to done', async () => {
        const name = `TS SDK launch ${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
        let out = await ok(a, 'projects.create_project', { name, description: 'made by the TypeScript SDK e2e test' });
        assert.equal(out.ok, true);
        const projectID = out.project.project_id;
        assert.match(projectID, /^prj_/);
        assert.equal(out.project.name, name);

        out = await ok(a, 'projects.create_task', {
            project_id: projectID,
            title: 'Write the launch post',
            priority: 'high',
            due_date: '2026-12-01',
        });
        assert.equal(out.ok, true);
        assert.equal(out.status, 'todo');
        assert.match(out.task_id, /^tsk_/);
        taskID = out.task_id;

        for (const to of ['doing', 'review', 'done']) {
            out = await ok(a, 'projects.transition_task', { task_id: taskID, to });
            assert.equal(out.ok, true);
            assert.equal(out.task.status, to, `to ${to}`);
        }
        out = await rejected(a, 'projects.transition_task', { task_id: taskID, to: 'review' });
        assert.equal(out.error, 'invalid_transition');

        out = await ok(a, 'projects.get_task', { task_id: taskID });
        assert.equal(out.task.status, 'done');

        out = await ok(a, 'projects.list_tasks', { project_id: projectID });
        assert.equal(out.items.length, 1);
    });

    it('rejects an unknown project and writes nothing', async () => {
        const before = await countTasks(a);
        const out = await rejected(a, 'projects.create_task', { project_id: MISSING_PROJECT, title: 'Orphan' });
        assert.equal(out.error, 'unknown_project');
        assert.match(out.message, /projects\.list_projects/, 'tells the agent what to call next');
        assert.equal(await countTasks(a), before, 'nothing written');
    });

    it('rejects invalid input naming exactly the offending field and writes nothing', async () => {
        const before = await countTasks(a);
        const cases = [
            ['empty title', { title: '' }, '/title'],
            ['201-char title', { title: 'x'.repeat(201) }, '/title'],
            ['impossible date', { due_date: '2026-02-30' }, '/due_date'],
            ['unknown priority', { priority: 'urgent' }, '/priority'],
            ['unknown field', { colour: 'red' }, '/colour'],
        ];
        for (const [what, patch, path] of cases) {
            const args = { project_id: PROJECT_A, title: 'Valid title', ...patch };
            const out = await rejected(a, 'projects.create_task', args);
            assert.equal(out.error, 'invalid_input', `${what}: ${JSON.stringify(out)}`);
            assert.deepEqual(issuePaths(out), [path], `${what}: ${JSON.stringify(out)}`);
        }
        assert.equal(await countTasks(a), before, 'nothing written');
    });

    it('gives a read-only key no write tools and forbids writes', async () => {
        const ro = await connect(KEY_READ_A);
        const { tools } = await ro.listTools();
        const names = tools.map((t) => t.name);
        for (const w of WRITE_TOOLS) {
            assert.ok(!names.includes(w), `read-only key lists ${w}`);
        }
        assert.deepEqual(names, READ_TOOLS);

        const before = await countTasks(a);
        const { res, out } = await call(ro, 'projects.create_task', { project_id: PROJECT_A, title: 'Sneaky' });
        assert.equal(res.isError, true, JSON.stringify(res));
        assert.equal(res.structuredContent, undefined, 'forbidden is outside the contract: text content only');
        assert.equal(out.error, 'forbidden');
        assert.match(out.message, /projects\.write/, 'names the missing scope');
        assert.equal(await countTasks(a), before, 'nothing written');
    });

    it("answers tenant B about tenant A's task exactly as about a task that does not exist", async () => {
        assert.ok(taskID, 'the create test ran');
        const b = await connectListed(KEY_FULL_B);
        const cases = [
            ['projects.get_task', (id) => ({ task_id: id })],
            ['projects.update_task', (id) => ({ task_id: id, title: 'Hijacked' })],
            ['projects.transition_task', (id) => ({ task_id: id, to: 'todo' })],
        ];
        for (const [tool, args] of cases) {
            const other = await rejected(b, tool, args(taskID));
            const absent = await rejected(b, tool, args(MISSING_TASK));
            assert.equal(other.error, 'unknown_task', `${tool}: ${JSON.stringify(other)}`);
            assert.equal(other.error, absent.error, `${tool}: same code as a missing id`);
            assert.deepEqual(other.issues, absent.issues, `${tool}: same issues as a missing id`);
            assert.equal(other.message, absent.message.replaceAll(MISSING_TASK, taskID), `${tool}: same message`);
        }
        const out = await ok(a, 'projects.get_task', { task_id: taskID });
        assert.equal(out.task.title, 'Write the launch post', "tenant A's task unchanged");
        assert.equal(out.task.status, 'done');
    });

    it('refuses a client without a key with HTTP 401', async () => {
        const client = new Client({ name: 'capd-e2e-ts-nokey', version: '1.0.0' });
        const transport = new StreamableHTTPClientTransport(new URL(URL_));
        await assert.rejects(client.connect(transport), (err) => {
            assert.equal(err.code, 401, `expected HTTP 401, got ${err}`);
            return true;
        });
        await client.close().catch(() => {});
    });

    it('refuses a cross-origin request with HTTP 403', async () => {
        const res = await fetch(URL_, {
            method: 'POST',
            headers: {
                Authorization: `Bearer ${KEY_FULL_A}`,
                Origin: 'https://evil.example',
                'Content-Type': 'application/json',
                Accept: 'application/json, text/event-stream',
            },
            body: JSON.stringify({
                jsonrpc: '2.0',
                id: 1,
                method: 'initialize',
                params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'evil', version: '1' } },
            }),
        });
        await res.body?.cancel();
        assert.equal(res.status, 403);
    });
});
