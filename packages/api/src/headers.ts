/** Header the bot (and any service caller) sends its API key in. Its own module so clients load nothing of the server. */
export const BOT_KEY_HEADER = "x-guildhall-bot-key";
