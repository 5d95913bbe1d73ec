/** Word lists for generated names, statuses and activities. Order matters: changing it changes seeded data. */

export const FIRST_NAMES = [
  "alex", "sam", "jordan", "taylor", "morgan", "casey", "riley", "jamie", "robin", "quinn",
  "marie", "lucas", "emma", "noah", "olivia", "liam", "ava", "mateo", "sofia", "hugo",
  "lea", "jules", "chloe", "louis", "ines", "nathan", "zoe", "arthur", "camille", "theo",
  "yuki", "haruto", "mei", "kenji", "aiko", "ravi", "priya", "arjun", "ananya", "omar",
  "fatima", "youssef", "amira", "ivan", "olga", "dmitri", "anya", "lars", "freya", "nils",
  "ingrid", "pablo", "lucia", "diego", "elena", "marco", "giulia", "finn", "niamh", "cian",
] as const;

export const LAST_NAMES = [
  "martin", "bernard", "dubois", "thomas", "robert", "petit", "durand", "leroy", "moreau", "simon",
  "smith", "jones", "brown", "wilson", "taylor", "walker", "wright", "green", "hall", "wood",
  "tanaka", "suzuki", "sato", "kim", "park", "lee", "chen", "wang", "singh", "patel",
  "garcia", "lopez", "rossi", "russo", "muller", "schmidt", "novak", "horvat", "nielsen", "berg",
] as const;

export const ADJECTIVES = [
  "quiet", "brave", "lucky", "sleepy", "rapid", "cosmic", "frozen", "silent", "wild", "gentle",
  "crimson", "golden", "hidden", "lazy", "mighty", "neon", "pixel", "rusty", "shiny", "stormy",
  "sunny", "tiny", "velvet", "witty", "zesty", "arcane", "bold", "clever", "dusty", "electric",
] as const;

export const NOUNS = [
  "fox", "otter", "falcon", "badger", "panda", "raven", "tiger", "wolf", "koala", "lynx",
  "comet", "nebula", "pixel", "rocket", "wizard", "knight", "ninja", "pirate", "dragon", "golem",
  "cactus", "maple", "pebble", "teapot", "waffle", "noodle", "biscuit", "lantern", "anchor", "compass",
] as const;

export const GAMES = [
  "Garry's Mod", "Minecraft", "Counter-Strike 2", "Rocket League", "Stardew Valley", "Factorio",
  "Team Fortress 2", "Terraria", "Valheim", "Deep Rock Galactic", "Civilization VI", "Among Us",
  "Satisfactory", "Hades II", "Baldur's Gate 3",
] as const;

export const CUSTOM_STATUSES = [
  "In a meeting", "Streaming later", "AFK for lunch", "Back in 10", "Working on the wiki",
  "Do not ping", "Reviewing applications", "On call", "Event tonight at 9", "Brewing coffee",
] as const;

export const ROLE_NAMES = [
  "Member", "Veteran", "Event Host", "Artist", "Developer", "Streamer", "Night Owl",
] as const;

export const GUILD_ADJECTIVES = ["Cozy", "Grand", "Hidden", "Northern", "Pixel", "Velvet", "Lucky", "Midnight"] as const;
export const GUILD_NOUNS = ["Guild", "Tavern", "Harbour", "Workshop", "Collective", "Lodge", "Club", "Outpost"] as const;
