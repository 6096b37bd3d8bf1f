// The Bot Builder v3 reference for botwright's benchmarks: the same bots, written with botbuilder 3.30.0
// (the newest 3.x) and express 4.
//
//   node bot.js echo        replies "echo: <text>"
//   node bot.js waterfall   asks "What is your name?" (text prompt), then "Thanks, <answer>"
//   node bot.js sample      the notify + standup sample (SAMPLE.md): greeting, subscribe, locale,
//                           POST /api/notify, POST /api/standup, GET /api/standup/:id, GET /api/subscriptions
//
// Listens on 127.0.0.1:$PORT. No app id: botbuilder 3 then accepts only the `emulator` channel, which the
// harness uses. State is MemoryBotStorage, set explicitly (otherwise v3 calls the retired state service).
// AUTO_BATCH_DELAY (ms) overrides v3's reply batching delay (default 250 ms; the headline runs keep it).
'use strict';

const builder = require('botbuilder');
const express = require('express');

const workload = process.argv[2] || process.env.WORKLOAD || 'echo';
const port = Number(process.env.PORT || 3978);

// v3 logs several lines per activity on the emulator channel; keep the console quiet under load.
if (!process.env.BENCH_VERBOSE) {
  console.log = () => {};
  console.info = () => {};
  console.warn = () => {};
}

const connector = new builder.ChatConnector({});
const settings = { storage: new builder.MemoryBotStorage() };
if (process.env.AUTO_BATCH_DELAY !== undefined) {
  settings.autoBatchDelay = Number(process.env.AUTO_BATCH_DELAY);
}
const bot = new builder.UniversalBot(connector, settings);

const app = express();
const listener = connector.listen();
// ChatConnector.listen() calls next() after answering: wrap it without next.
app.post('/api/messages', (req, res) => listener(req, res));

const GREETING = 'Hello! Commands: subscribe, locale en, locale es.';
const MESSAGES = {
  en: { shipped: 'Your order %s has shipped.' },
  es: { shipped: 'Tu pedido %s ha sido enviado.' },
};

if (workload === 'echo') {
  bot.dialog('/', (session) => {
    session.endDialog('echo: ' + session.message.text);
  });
} else if (workload === 'waterfall') {
  bot.dialog('/', [
    (session) => {
      builder.Prompts.text(session, 'What is your name?');
    },
    (session, results) => {
      session.endDialog('Thanks, ' + results.response);
    },
  ]);
} else if (workload === 'sample') {
  // Records of the sample, kept in the process (like the bot's MemoryBotStorage).
  const subscriptions = new Map(); // userId -> address
  const reports = new Map(); // reportId -> {userId: status}
  const locales = new Map(); // userId -> locale

  bot.dialog('/', (session) => {
    let greeted = false;
    if (!session.userData.seen) {
      session.userData.seen = true;
      session.send(GREETING);
      greeted = true;
    }
    const command = (session.message.text || '').trim().toLowerCase();
    if (command === 'subscribe') {
      subscriptions.set(session.message.address.user.id, session.message.address);
      session.send('subscription created');
    } else if (command === 'locale en' || command === 'locale es') {
      const locale = command.slice('locale '.length);
      locales.set(session.message.address.user.id, locale);
      session.preferredLocale(locale);
      session.send('locale set to ' + locale);
    } else if (!greeted) {
      session.send(GREETING);
    }
    session.endDialog();
  });

  bot.dialog('standup', [
    (session, args) => {
      session.dialogData.reportId = args.reportId;
      session.dialogData.userId = args.userId;
      builder.Prompts.text(session, 'What is your status for today?');
    },
    (session, results) => {
      const report = reports.get(session.dialogData.reportId) || {};
      report[session.dialogData.userId] = results.response;
      reports.set(session.dialogData.reportId, report);
      session.endDialog('Got it... Thanks!');
    },
  ]);

  const validAddress = (a) => {
    if (typeof a === 'string') {
      try {
        a = JSON.parse(a);
      } catch (e) {
        return null;
      }
    }
    return a && typeof a === 'object' && typeof a.serviceUrl === 'string' && a.user && a.conversation ? a : null;
  };
  const format = (template, params) => {
    let i = 0;
    return template.replace(/%s/g, () => (i < params.length ? String(params[i++]) : '%s'));
  };

  const hooks = express.Router();
  hooks.use(express.json({ limit: '1mb' }));
  hooks.get('/api/subscriptions', (req, res) => {
    res.json([...subscriptions].map(([userId, address]) => ({ userId, address })));
  });
  hooks.post('/api/notify', (req, res) => {
    const address = validAddress(req.body && req.body.address);
    if (!address) return res.status(400).json({ error: 'notify needs a valid address' });
    let text;
    if (typeof req.body.msgId === 'string') {
      const locale = locales.get(address.user.id) || 'en';
      const template = (MESSAGES[locale] || MESSAGES.en)[req.body.msgId] || req.body.msgId;
      text = format(template, Array.isArray(req.body.params) ? req.body.params : []);
    } else if (typeof req.body.notification === 'string') {
      text = req.body.notification;
    } else {
      return res.status(400).json({ error: 'notify needs a string notification or msgId' });
    }
    const msg = new builder.Message().address(address).text(text);
    bot.send(msg, (err, addresses) => {
      if (err) return res.status(500).json({ error: String(err.message || err) });
      res.json({ id: addresses && addresses[0] && addresses[0].id });
    });
  });
  hooks.post('/api/standup', (req, res) => {
    const body = req.body || {};
    if (body.reportId === undefined) return res.status(400).json({ error: 'standup needs a reportId' });
    if (!Array.isArray(body.members)) return res.status(400).json({ error: 'standup needs members' });
    const addresses = body.members.map((m) => validAddress(m && m.address));
    if (addresses.some((a) => !a)) return res.status(400).json({ error: 'a member has no valid address' });
    const reportId = String(body.reportId);
    if (!reports.has(reportId)) reports.set(reportId, {});
    let pending = addresses.length;
    let failed = null;
    if (pending === 0) return res.json({ reportId, members: 0 });
    for (const address of addresses) {
      bot.beginDialog(address, 'standup', { reportId, userId: address.user.id }, (err) => {
        if (err) failed = err;
        if (--pending === 0) {
          if (failed) res.status(500).json({ error: String(failed.message || failed) });
          else res.json({ reportId, members: addresses.length });
        }
      });
    }
  });
  hooks.get('/api/standup/:reportId', (req, res) => {
    res.json(reports.get(req.params.reportId) || {});
  });
  hooks.use((err, req, res, next) => {
    if (err && err.type === 'entity.parse.failed') return res.status(400).json({ error: 'the body is not JSON' });
    next(err);
  });
  app.use(hooks);
} else {
  process.stderr.write('unknown workload ' + workload + ': use echo, waterfall or sample\n');
  process.exit(2);
}

process.on('unhandledRejection', (e) => process.stderr.write('unhandled rejection: ' + e + '\n'));
app.listen(port, '127.0.0.1', () => {
  process.stderr.write('botbuilder v3 ' + workload + ' bot listening on 127.0.0.1:' + port + '\n');
});
process.on('SIGTERM', () => process.exit(0));
