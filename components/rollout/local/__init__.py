"""The rollout on this machine: the SeldonDeployment as a file, executed by Seldon microservices behind a
local traffic proxy that applies its traffic rules."""
