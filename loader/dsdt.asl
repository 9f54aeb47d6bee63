/*
 * Keel's DSDT, for guests with ACPI power management (acpi:pm, see
 * docs/devices.md). Compiled with iasl (Debian's acpica-tools) into
 * loader/dsdt_aml.h by `make dsdt`; the result is committed, so building
 * Keel needs no iasl.
 *
 * The sleeping states are the SLP_TYP values hvm/dev/vpm.c acts on. The
 * PCI root bridge is declared because an OS that runs ACPI finds PCI
 * buses only through the namespace; its windows are the legacy I/O space
 * and the hole below 4 GiB where hvmloader puts BARs. The keyboard
 * controller is declared because SeaBIOS and Linux look for a PNP0303
 * device in the DSDT before they touch ports 0x60/0x64.
 */
DefinitionBlock ("dsdt.aml", "DSDT", 2, "KEEL  ", "KEELHVM ", 1)
{
    Name (\_S3, Package (0x04) { 0x01, 0x01, Zero, Zero })
    Name (\_S4, Package (0x04) { 0x02, 0x02, Zero, Zero })
    Name (\_S5, Package (0x04) { Zero, Zero, Zero, Zero })
    Scope (\_SB)
    {
        Device (PCI0)
        {
            Name (_HID, EisaId ("PNP0A03"))
            Name (_UID, Zero)
            Name (_CRS, ResourceTemplate ()
            {
                WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode, 0x0000, 0x0000, 0x00FF, 0x0000, 0x0100,,,)
                IO (Decode16, 0x0CF8, 0x0CF8, 0x01, 0x08,)
                WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange, 0x0000, 0x0000, 0x0CF7, 0x0000, 0x0CF8,,, , TypeStatic, DenseTranslation)
                WordIO (ResourceProducer, MinFixed, MaxFixed, PosDecode, EntireRange, 0x0000, 0x0D00, 0xFFFF, 0x0000, 0xF300,,, , TypeStatic, DenseTranslation)
                DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, Cacheable, ReadWrite, 0x00000000, 0x000A0000, 0x000BFFFF, 0x00000000, 0x00020000,,, , AddressRangeMemory, TypeStatic)
                DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable, ReadWrite, 0x00000000, 0xE0000000, 0xFEBFFFFF, 0x00000000, 0x1EC00000,,, , AddressRangeMemory, TypeStatic)
            })
            Device (KBD)
            {
                Name (_HID, EisaId ("PNP0303"))
                Name (_CRS, ResourceTemplate ()
                {
                    IO (Decode16, 0x0060, 0x0060, 0x01, 0x01,)
                    IO (Decode16, 0x0064, 0x0064, 0x01, 0x01,)
                    IRQNoFlags () {1}
                })
            }
        }
    }
}
