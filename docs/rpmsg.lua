-- Wireshark dissector for rpmsg captures written by swift-remoteproc (`rpmsg capture`,
-- PacketCapture.PacketCaptureWriter). See docs/pcapng-rpmsg.md for the format.
--
-- Use:  wireshark -X lua_script:docs/rpmsg.lua capture.pcapng
--       tshark -X lua_script:docs/rpmsg.lua -r capture.pcapng -V
-- or copy this file to ~/.local/lib/wireshark/plugins/.
--
-- Packets use LINKTYPE_USER0 (147): a 16-byte pseudo-header in network byte order
-- (version, direction, rpmsg flags, src, dst, reserved), then the message payload.

local rpmsg = Proto("rpmsg", "rpmsg message")

local directions = { [1] = "remote to host", [2] = "host to remote" }
local ns_flags = { [0] = "create", [1] = "destroy" }

local f = {
  version = ProtoField.uint8("rpmsg.version", "Pseudo-header version"),
  direction = ProtoField.uint8("rpmsg.direction", "Direction", base.DEC, directions),
  flags = ProtoField.uint16("rpmsg.flags", "Flags", base.HEX),
  src = ProtoField.uint32("rpmsg.src", "Source address", base.DEC),
  dst = ProtoField.uint32("rpmsg.dst", "Destination address", base.DEC),
  reserved = ProtoField.uint32("rpmsg.reserved", "Reserved", base.HEX),
  len = ProtoField.uint32("rpmsg.len", "Payload length", base.DEC),
  payload = ProtoField.bytes("rpmsg.payload", "Payload"),
  text = ProtoField.string("rpmsg.text", "Text"),
  ns_name = ProtoField.string("rpmsg.ns.name", "Service name"),
  ns_addr = ProtoField.uint32("rpmsg.ns.addr", "Service address", base.DEC),
  ns_flags = ProtoField.uint32("rpmsg.ns.flags", "Announcement", base.DEC, ns_flags),
}
rpmsg.fields = { f.version, f.direction, f.flags, f.src, f.dst, f.reserved, f.len, f.payload,
  f.text, f.ns_name, f.ns_addr, f.ns_flags }

local NAME_SERVICE = 53

-- True when every byte is printable ASCII, tab, CR or LF.
local function printable(range)
  local bytes = range:bytes()
  for i = 0, bytes:len() - 1 do
    local b = bytes:get_index(i)
    if not (b == 9 or b == 10 or b == 13 or (b >= 32 and b < 127)) then return false end
  end
  return true
end

function rpmsg.dissector(buffer, pinfo, tree)
  if buffer:len() < 16 or buffer(0, 1):uint() ~= 1 then return 0 end
  pinfo.cols.protocol = "RPMSG"
  local direction = buffer(1, 1):uint()
  local src = buffer(4, 4):uint()
  local dst = buffer(8, 4):uint()
  local length = buffer:len() - 16
  local subtree = tree:add(rpmsg, buffer(), "rpmsg")
  subtree:add(f.version, buffer(0, 1))
  subtree:add(f.direction, buffer(1, 1))
  subtree:add(f.flags, buffer(2, 2))
  subtree:add(f.src, buffer(4, 4))
  subtree:add(f.dst, buffer(8, 4))
  subtree:add(f.reserved, buffer(12, 4))
  subtree:add(f.len, length):set_generated()
  pinfo.cols.src = tostring(src)
  pinfo.cols.dst = tostring(dst)
  local info = string.format("%s %d → %d, %d bytes", direction == 2 and "tx" or "rx", src, dst, length)
  if length > 0 then
    local payload = buffer(16, length)
    subtree:add(f.payload, payload)
    -- Name-service announcements (struct rpmsg_ns_msg, 40 bytes, little-endian as on
    -- Linux hosts): name[32], addr, flags.
    if dst == NAME_SERVICE and length == 40 then
      local name = buffer(16, 32):stringz()
      local ns = subtree:add(buffer(16, 40), "Name service")
      ns:add(f.ns_name, buffer(16, 32), name)
      ns:add_le(f.ns_addr, buffer(48, 4))
      ns:add_le(f.ns_flags, buffer(52, 4))
      info = info .. string.format(": %s %s at %d", ns_flags[buffer(52, 4):le_uint()] or "?", name,
        buffer(48, 4):le_uint())
    elseif printable(payload) then
      local text = payload:string()
      subtree:add(f.text, payload, text)
      info = info .. ": " .. text:gsub("[\r\n]+$", "")
    end
  end
  pinfo.cols.info = info
  return buffer:len()
end

DissectorTable.get("wtap_encap"):add(wtap_encaps.USER0, rpmsg)
