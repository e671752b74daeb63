/**
 * The reference for the ack benchmark: a Bolt app on the HTTP receiver whose only listener acks
 * `/triage` at once. Same Bolt version, same signing checks, same machine and load as the real bot.
 */
import { App, HTTPReceiver, LogLevel } from '@slack/bolt';

const port = Number(process.env.PORT ?? 0);
const receiver = new HTTPReceiver({ signingSecret: process.env.SLACK_SIGNING_SECRET ?? '', endpoints: ['/slack/events'] });
const app = new App({
  token: process.env.SLACK_BOT_TOKEN,
  receiver,
  convoStore: false,
  logLevel: LogLevel.ERROR,
  clientOptions: process.env.SLACK_API_URL ? { slackApiUrl: process.env.SLACK_API_URL } : {},
});
app.command(/^\/triage/, async ({ ack }) => {
  await ack();
});
await app.start({ port, host: '127.0.0.1' });
process.stderr.write(`${JSON.stringify({ msg: 'bot ready', port })}\n`);
