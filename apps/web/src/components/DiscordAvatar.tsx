/** A Discord user's avatar from the Discord CDN (the emulator's in development), with initials as the fallback. */
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { appConfigQuery } from "../lib/config";
import { avatarUrl } from "../lib/members";
import { Avatar } from "./Avatar";

/**
 * The avatar of Discord user `discordId` (`avatar` is the image hash; null shows Discord's
 * default avatar for the id). `size` is the displayed size in px; the 64 px image is fetched
 * so it stays sharp on high-density screens. Until `/api/config` has answered, or when the
 * image fails to load, the initials of `name` are shown instead. Decorative: the name is
 * always shown beside it.
 */
export function DiscordAvatar({
  discordId,
  avatar,
  name,
  size = 32,
}: {
  discordId: string;
  avatar: string | null;
  name: string;
  size?: number;
}) {
  const config = useQuery(appConfigQuery);
  const [failed, setFailed] = useState<string | null>(null);
  const src = config.data ? avatarUrl(config.data.discordCdnUrl, discordId, avatar, 64) : null;
  if (!src || failed === src) return <Avatar name={name} size={size} />;
  return (
    <img
      className="avatar avatar-img"
      src={src}
      width={size}
      height={size}
      alt=""
      loading="lazy"
      decoding="async"
      referrerPolicy="no-referrer"
      onError={() => setFailed(src)}
      data-testid="member-avatar"
    />
  );
}
